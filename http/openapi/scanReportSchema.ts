/**
 * The JSON export's schema, as published in docs/schemas/scan-report.schema.json (the
 * document carries it as components.schemas.ScanReport; the build ships no docs/, so it
 * is copied here). `test/http/openapi.test.ts` checks that the two are the same.
 */
export const SCAN_REPORT_JSON_SCHEMA: Record<string, unknown> = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'urn:secably:schema:scan-report:1',
  title: 'SecAbly scan report (JSON export)',
  description:
    'The JSON export of one completed scan (POST /api/v1/scans/{id}/export/ {"format": "json"}), built from the scan\'s event stream. `source` names the events it was built from and their SHA-256 digest (docs/reports.md).',
  type: 'object',
  additionalProperties: false,
  required: [
    'report_format',
    'report_version',
    'generator',
    'generated_at',
    'source',
    'scan',
    'target',
    'summary',
    'scan_result',
    'findings',
  ],
  properties: {
    report_format: {
      const: 'secably-scan-report',
    },
    report_version: {
      const: 1,
    },
    generator: {
      type: 'string',
    },
    generated_at: {
      type: 'string',
      format: 'date-time',
    },
    source: {
      description: 'The events the report was built from.',
      type: 'object',
      additionalProperties: false,
      required: [
        'stream',
        'first_revision',
        'last_revision',
        'event_count',
        'digest',
        'digest_algorithm',
        'canonicalization',
        'verify',
      ],
      properties: {
        stream: {
          type: 'string',
          pattern: '^scan-[0-9a-f-]{36}$',
        },
        first_revision: {
          const: 0,
        },
        last_revision: {
          type: 'integer',
          minimum: 0,
        },
        event_count: {
          type: 'integer',
          minimum: 1,
        },
        digest: {
          description: "SHA-256 (hex) of the canonical JSON array of the events' {data, id, revision, type}.",
          type: 'string',
          pattern: '^[0-9a-f]{64}$',
        },
        digest_algorithm: {
          const: 'sha256',
        },
        canonicalization: {
          type: 'string',
        },
        verify: {
          description: 'The API path that checks the digest against the store.',
          type: 'string',
        },
      },
    },
    scan: {
      type: 'object',
      additionalProperties: false,
      required: [
        'id',
        'status',
        'scanner_type',
        'scan_profile',
        'coverage',
        'scan_config',
        'credits',
        'attempt',
        'requested_at',
        'queued_at',
        'started_at',
        'completed_at',
        'duration_ms',
      ],
      properties: {
        id: {
          type: 'string',
          format: 'uuid',
        },
        status: {
          const: 'completed',
        },
        scanner_type: {
          type: 'string',
          pattern: '^[a-z][a-z0-9_-]{1,31}$',
        },
        scan_profile: {
          type: 'string',
        },
        coverage: {
          type: 'string',
        },
        scan_config: {
          type: 'object',
        },
        credits: {
          type: 'integer',
          minimum: 0,
        },
        attempt: {
          type: 'integer',
          minimum: 1,
        },
        requested_at: {
          type: 'string',
          format: 'date-time',
        },
        queued_at: {
          $ref: '#/$defs/optionalTime',
        },
        started_at: {
          $ref: '#/$defs/optionalTime',
        },
        completed_at: {
          type: 'string',
          format: 'date-time',
        },
        duration_ms: {
          type: ['number', 'null'],
          minimum: 0,
        },
      },
    },
    target: {
      type: 'object',
      additionalProperties: false,
      required: ['id', 'name', 'value', 'type'],
      properties: {
        id: {
          type: 'string',
        },
        name: {
          type: 'string',
        },
        value: {
          type: 'string',
        },
        type: {
          enum: ['ip', 'hostname', 'url', 'range'],
        },
      },
    },
    summary: {
      type: 'object',
      additionalProperties: false,
      required: ['risk_level', 'security_score', 'vulnerabilities_found', 'findings_count', 'by_risk'],
      properties: {
        risk_level: {
          $ref: '#/$defs/risk',
        },
        security_score: {
          type: 'number',
          minimum: 0,
          maximum: 100,
        },
        vulnerabilities_found: {
          type: 'integer',
          minimum: 0,
        },
        findings_count: {
          description: 'The number of items in `findings`.',
          type: 'integer',
          minimum: 0,
        },
        by_risk: {
          type: 'object',
          additionalProperties: false,
          required: ['critical', 'high', 'medium', 'low', 'info'],
          properties: {
            critical: {
              type: 'integer',
              minimum: 0,
            },
            high: {
              type: 'integer',
              minimum: 0,
            },
            medium: {
              type: 'integer',
              minimum: 0,
            },
            low: {
              type: 'integer',
              minimum: 0,
            },
            info: {
              type: 'integer',
              minimum: 0,
            },
          },
        },
      },
    },
    scan_result: {
      description: "The scanner's own typed result (its plug-in's result schema), null when it recorded none.",
      type: ['object', 'null'],
    },
    findings: {
      description: 'Every finding of the scan, in the order the scanner reported them.',
      type: 'array',
      items: {
        $ref: '#/$defs/finding',
      },
    },
  },
  $defs: {
    optionalTime: {
      anyOf: [
        {
          type: 'string',
          format: 'date-time',
        },
        {
          type: 'null',
        },
      ],
    },
    risk: {
      enum: ['critical', 'high', 'medium', 'low', 'info'],
    },
    finding: {
      description: 'One finding, in the one shape every scanner produces (domain/shared/finding.ts).',
      type: 'object',
      additionalProperties: false,
      required: [
        'name',
        'risk',
        'description',
        'solution',
        'evidence',
        'location',
        'rule_id',
        'engine',
        'confidence',
        'fingerprint',
      ],
      properties: {
        name: {
          type: 'string',
          minLength: 1,
          maxLength: 300,
        },
        risk: {
          $ref: '#/$defs/risk',
        },
        description: {
          type: 'string',
          maxLength: 5000,
        },
        solution: {
          type: 'string',
          maxLength: 5000,
        },
        evidence: {
          type: 'string',
          maxLength: 5000,
        },
        location: {
          description: 'Where, relative to the target: "host:443/tcp", "host:443", a URL, …',
          type: 'string',
          maxLength: 2000,
        },
        rule_id: {
          description: "The engine's stable id of the check.",
          type: 'string',
          minLength: 1,
          maxLength: 200,
        },
        engine: {
          type: 'string',
          minLength: 1,
          maxLength: 50,
        },
        confidence: {
          enum: ['confirmed', 'high', 'medium', 'low'],
        },
        cwe: {
          type: 'array',
          maxItems: 20,
          items: {
            type: 'integer',
            minimum: 1,
          },
        },
        cve: {
          type: 'array',
          maxItems: 100,
          items: {
            type: 'string',
            pattern: '^CVE-\\d{4}-\\d{4,}$',
          },
        },
        cvss: {
          type: 'object',
          additionalProperties: false,
          required: ['score'],
          properties: {
            score: {
              type: 'number',
              minimum: 0,
              maximum: 10,
            },
            vector: {
              type: 'string',
              maxLength: 200,
            },
          },
        },
        references: {
          type: 'array',
          maxItems: 50,
          items: {
            type: 'string',
            maxLength: 500,
          },
        },
        sources: {
          description: 'Other engines that found the same weakness.',
          type: 'array',
          maxItems: 20,
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['engine', 'rule_id'],
            properties: {
              engine: {
                type: 'string',
                minLength: 1,
                maxLength: 50,
              },
              rule_id: {
                type: 'string',
                minLength: 1,
                maxLength: 200,
              },
            },
          },
        },
        fingerprint: {
          description: "The finding's identity (target + scanner + rule + location): the same weakness across scans.",
          type: 'string',
          minLength: 1,
          maxLength: 128,
        },
      },
    },
  },
};
