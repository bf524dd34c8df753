/**
 * Pure: nmap's N most common TCP ports (what `--top-ports N` scans), read from nmap's
 * `nmap-services` (Debian: /usr/share/nmap/nmap-services: "name port/proto frequency"),
 * as a GMP port range ("T:21-23,25,80"). Used to give a Greenbone scan the same
 * `top_1000_tcp` port list as the composed scan: gvmd ships no such list.
 */

export function topTcpPorts(nmapServices: string, count: number): number[] {
  const ports = new Map<number, number>();
  for (const line of nmapServices.split(/\r?\n/)) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const [, portProto = '', frequency = ''] = line.split(/\s+/);
    const match = /^(\d{1,5})\/tcp$/.exec(portProto);
    const ratio = Number(frequency);
    if (!match || !Number.isFinite(ratio)) continue;
    const port = Number(match[1]);
    if (port < 1 || port > 65535) continue;
    ports.set(port, Math.max(ports.get(port) ?? 0, ratio));
  }
  return [...ports.entries()]
    .sort((a, b) => b[1] - a[1] || a[0] - b[0])
    .slice(0, count)
    .map(([port]) => port)
    .sort((a, b) => a - b);
}

/** Ports as a GMP port range: consecutive ports joined ("T:1-3,7,9"). */
export function gmpTcpRange(ports: readonly number[]): string {
  const sorted = [...new Set(ports)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return `T:${parts.join(',')}`;
}
