/**
 * The engines the vulnerability scan composes on what discovery found, behind one
 * injected interface: our TLS analysis (scanners/tls/tlsAnalysis.ts), our web scanner
 * (scanners/web/webScan.ts) and our template engine (scanners/nuclei/nucleiScan.ts).
 * The runner takes them as a parameter (`createRunnerWith(engines, settings)`), so
 * tests inject fakes and the worker gets the real ones (`createRunner(settings)`).
 *
 * Contract for every engine call:
 * - connect only to `address` (the checked IP); `hostname` / `origin.hostname` is the
 *   name to speak (SNI, Host header, finding locations), never to be resolved;
 * - stop every socket and child process at once when `signal` aborts, and reject
 *   (ScanAbortedError from scanners/shared/errors.ts is what the runner expects);
 * - stay within `budget` when given; report progress through `onProgress` (0-100);
 * - findings carry `engine` and a stable `rule_id`; locations never contain `address`.
 */
import type { ScannerFinding } from '../../domain/shared/finding.js';

export interface EngineProgress {
  readonly percent: number;
  readonly phase: string;
}

export interface EngineOutput {
  readonly findings: ScannerFinding[];
  /** The engine's own result for this endpoint (kept, bounded, in the scan's result). */
  readonly result: Record<string, unknown>;
}

export interface WebOrigin {
  readonly scheme: 'http' | 'https';
  /** The target's name (Host header, SNI, locations). */
  readonly hostname: string;
  readonly port: number;
}

export interface EngineBudget {
  readonly maxRequests?: number;
  readonly totalTimeMs?: number;
}

export interface TlsEndpointInput {
  readonly address: string;
  readonly port: number;
  readonly hostname: string;
  readonly signal: AbortSignal;
  readonly onProgress?: (progress: EngineProgress) => void;
  readonly checks?: { readonly certificate?: boolean; readonly versions?: boolean; readonly cipherSuites?: boolean };
}

export interface WebAppScanInput {
  readonly address: string;
  readonly origin: WebOrigin;
  readonly startPath?: string;
  readonly mode: 'baseline' | 'full';
  readonly spider: boolean;
  readonly signal: AbortSignal;
  readonly onProgress?: (progress: EngineProgress) => void;
  readonly budget?: EngineBudget;
}

export interface TemplateScanInput {
  readonly address: string;
  readonly origin: WebOrigin;
  readonly basePath?: string;
  readonly mode: 'quick' | 'full';
  readonly signal: AbortSignal;
  readonly onProgress?: (progress: EngineProgress) => void;
  readonly budget?: EngineBudget;
}

export interface VulnEngines {
  /** Our TLS analysis of one endpoint (protocol versions, cipher suites, certificate, TLS vulnerabilities). */
  analyzeTlsEndpoint(input: TlsEndpointInput): Promise<EngineOutput>;
  /** Whether `address:port` completes a TLS handshake (used where nmap could not tell). */
  speaksTls(address: string, port: number, hostname: string, signal: AbortSignal): Promise<boolean>;
  /** Our web application scan of one origin (ZAP's baseline / full). */
  scanWebApp(input: WebAppScanInput): Promise<EngineOutput>;
  /** Our template engine on one origin (nuclei's quick / full template sets). */
  runTemplateScan(input: TemplateScanInput): Promise<EngineOutput>;
}

/** Engine names this scanner itself puts on findings (the composed engines name their own). */
export const NMAP_ENGINE = 'nmap';
export const NSE_ENGINE = 'nmap-nse';
export const GVM_ENGINE = 'openvas-gvm';
