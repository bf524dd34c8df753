/**
 * The engines a worker's vulnerability scan composes: our TLS analysis, our web
 * scanner and our template engine, the same code the sslyze, zap and nuclei
 * scanners run (loaded by workers only, through the runner).
 */
import { runTemplateScan } from '../nuclei/nucleiScan.js';
import { analyzeTlsEndpoint, speaksTls } from '../tls/tlsAnalysis.js';
import { scanWebApp } from '../web/webScan.js';
import type { VulnEngines } from './engines.js';

export const defaultEngines: VulnEngines = { analyzeTlsEndpoint, speaksTls, scanWebApp, runTemplateScan };
