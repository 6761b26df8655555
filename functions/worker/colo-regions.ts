/**
 * Where a Worker request runs: `request.cf.colo`, the IATA code of the Cloudflare data center that received it
 * (`cf.country` is where the client is, not where the code runs). The table names the data centers of each region's
 * main cities; a colo missing from it is an unknown location, where a pinned key's in-process work is refused
 * (fail closed). Without Regional Services (Enterprise) a request lands wherever anycast sends it, so a pinned
 * key's request can be refused at one colo and answered at another: see docs/DEPLOY.md.
 */
import type { Region } from '../registry/registry.js';

const COLOS: Record<Region, string[]> = {
  eu: ['AMS', 'ATH', 'BCN', 'BER', 'BOD', 'BRU', 'BTS', 'BUD', 'CDG', 'CPH', 'DUB', 'DUS', 'FCO', 'FRA', 'GOT', 'HAM', 'HEL', 'LCA', 'LIS', 'LJU', 'LUX', 'LYS',
    'MAD', 'MLA', 'MRS', 'MUC', 'MXP', 'ORK', 'OTP', 'PMO', 'PRG', 'RIX', 'SKG', 'SOF', 'STR', 'TLL', 'VIE', 'VNO', 'WAW', 'ZAG', 'ARN'],
  us: ['ATL', 'BNA', 'BOS', 'CLT', 'CMH', 'DEN', 'DFW', 'DTW', 'EWR', 'IAD', 'IAH', 'IND', 'JAX', 'LAS', 'LAX', 'MCI', 'MIA', 'MSP', 'OMA', 'ORD',
    'PDX', 'PHL', 'PHX', 'PIT', 'RIC', 'SAN', 'SEA', 'SJC', 'SLC', 'SMF', 'STL', 'TPA'],
  uk: ['LHR', 'MAN', 'EDI'],
  ch: ['ZRH', 'GVA'],
  ca: ['YUL', 'YVR', 'YWG', 'YYC', 'YYZ', 'YOW'],
  au: ['ADL', 'BNE', 'CBR', 'HBA', 'MEL', 'PER', 'SYD'],
  jp: ['FUK', 'KIX', 'NRT', 'OKA'],
  in: ['AMD', 'BLR', 'BOM', 'CCU', 'DEL', 'HYD', 'MAA'],
  sg: ['SIN'],
  br: ['BSB', 'CNF', 'CWB', 'FOR', 'GIG', 'GRU', 'POA', 'REC', 'SSA'],
};

const REGION_OF_COLO = new Map(Object.entries(COLOS).flatMap(([region, colos]) => colos.map((colo) => [colo, region] as const)));

/** The regions the Worker's own models can run in: those the table knows data centers of. */
export const COLO_REGIONS: readonly string[] = Object.keys(COLOS);

/** The region of the data center this request runs in, or undefined where that is not known. */
export function regionOfRequest(request: Request): string | undefined {
  const colo = (request as Request & { cf?: { colo?: unknown } }).cf?.colo;
  return typeof colo === 'string' ? REGION_OF_COLO.get(colo.toUpperCase()) : undefined;
}
