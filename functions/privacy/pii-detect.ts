/**
 * Finds personal data in text: e-mail addresses, phone numbers (international "+CC" / "00CC" formats and the North
 * American plan's (NXX) NXX-XXXX), payment card numbers (issuer prefix and Luhn checked), IBANs (length per
 * country and the mod-97 checksum), IPv4 and IPv6 addresses, US social security numbers (the never-issued areas,
 * groups and serials excluded). Each kind is a candidate pattern and a check on what it matched, so that order
 * numbers, dates, versions, prices, ISBNs, tracking numbers, timestamps and hex ids stay untouched. Web-standard
 * JavaScript only: it runs in Node, the Worker and the browser alike.
 */
import { foldForDetection } from './fold-text.js';

export const PII_KINDS = ['email', 'phone', 'card', 'iban', 'ip', 'ssn'] as const;
export type PiiKind = (typeof PII_KINDS)[number];

export interface PiiMatch {
  kind: PiiKind;
  start: number;
  end: number;
}

export type PiiCounts = Partial<Record<PiiKind, number>>;

const digitsOf = (text: string): string => text.replace(/\D/g, '');

/** The Luhn check over a string of digits. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return digits.length > 0 && sum % 10 === 0;
}

/** Issuer prefixes and lengths of the card networks (Visa, Mastercard, Amex, Discover, JCB, Diners, UnionPay, Maestro). */
function cardIssuerKnown(d: string): boolean {
  const n = d.length;
  const p2 = Number(d.slice(0, 2));
  const p3 = Number(d.slice(0, 3));
  const p4 = Number(d.slice(0, 4));
  const p6 = Number(d.slice(0, 6));
  if (d[0] === '4') return n === 13 || n === 16 || n === 19;
  if ((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720)) return n === 16;
  if (p2 === 34 || p2 === 37) return n === 15;
  if (p4 === 6011 || p2 === 65 || (p3 >= 644 && p3 <= 649) || (p6 >= 622126 && p6 <= 622925)) return n >= 16 && n <= 19;
  if (p4 >= 3528 && p4 <= 3589) return n >= 16 && n <= 19;
  if (p2 === 36 || p2 === 38 || p2 === 39 || (p3 >= 300 && p3 <= 305) || p2 === 30) return n >= 14 && n <= 19;
  if (p2 === 62) return n >= 16 && n <= 19;
  if (p2 === 50 || (p2 >= 56 && p2 <= 58) || p2 === 63 || p2 === 67) return n >= 12 && n <= 19;
  return false;
}

/** IBAN lengths by country (SWIFT's IBAN registry). */
const IBAN_LENGTHS: Record<string, number> = {
  AD: 24, AE: 23, AL: 28, AT: 20, AZ: 28, BA: 20, BE: 16, BG: 22, BH: 22, BI: 27, BR: 29, BY: 28, CH: 21, CR: 22, CY: 28,
  CZ: 24, DE: 22, DJ: 27, DK: 18, DO: 28, EE: 20, EG: 29, ES: 24, FI: 18, FK: 18, FO: 18, FR: 27, GB: 22, GE: 22, GI: 23,
  GL: 18, GR: 27, GT: 28, HR: 21, HU: 28, IE: 22, IL: 23, IQ: 23, IS: 26, IT: 27, JO: 30, KW: 30, KZ: 20, LB: 28, LC: 32,
  LI: 21, LT: 20, LU: 20, LV: 21, LY: 25, MC: 27, MD: 24, ME: 22, MK: 19, MN: 20, MR: 27, MT: 31, MU: 30, NI: 28, NL: 18,
  NO: 15, OM: 23, PK: 24, PL: 28, PS: 29, PT: 25, QA: 29, RO: 24, RS: 22, RU: 33, SA: 24, SC: 31, SD: 18, SE: 24, SI: 19,
  SK: 24, SM: 27, SO: 23, ST: 25, SV: 28, TL: 23, TN: 24, TR: 26, UA: 29, VA: 22, VG: 24, XK: 20, YE: 30,
};

/** An IBAN (spaces removed, upper case) of its country's length whose mod-97 checksum is 1. */
export function ibanValid(iban: string): boolean {
  if (IBAN_LENGTHS[iban.slice(0, 2)] !== iban.length) return false;
  const moved = iban.slice(4) + iban.slice(0, 4);
  let rest = 0;
  for (let i = 0; i < moved.length; i++) {
    const c = moved.charCodeAt(i);
    const value = c >= 65 ? c - 55 : c - 48; // A = 10 … Z = 35
    rest = value >= 10 ? (rest * 100 + value) % 97 : (rest * 10 + value) % 97;
  }
  return rest === 1;
}

function ssnValid(area: string, group: string, serial: string): boolean {
  const a = Number(area);
  if (a === 0 || a === 666 || a >= 900) return false;
  if (group === '00' || serial === '0000') return false;
  // Published in advertising, never anyone's (Woolworth's wallet card, the 1962 Social Security card ad).
  return !(`${area}-${group}-${serial}` === '078-05-1120' || `${area}-${group}-${serial}` === '219-09-9999');
}

/** An IPv6 address (an IPv4 tail allowed), compressed or not. */
export function ipv6Valid(text: string): boolean {
  let head = text;
  let groupsNeeded = 8;
  const v4 = /(?:^|:)(\d{1,3}(?:\.\d{1,3}){3})$/.exec(text);
  if (v4) {
    if (!v4[1]!.split('.').every((part) => Number(part) <= 255 && !/^0\d/.test(part))) return false;
    head = text.slice(0, text.length - v4[1]!.length);
    if (head.endsWith(':') && !head.endsWith('::')) head = head.slice(0, -1);
    groupsNeeded = 6;
  }
  const halves = head.split('::');
  if (halves.length > 2) return false;
  const groups = (part: string) => (part === '' ? [] : part.split(':'));
  const all = halves.flatMap(groups);
  if (!all.every((g) => /^[0-9A-Fa-f]{1,4}$/.test(g))) return false;
  // A digit somewhere: "Bad::Add" (Ruby, C++) is hex letters only.
  if (!/\d/.test(text)) return false;
  if (halves.length === 2) return all.length < groupsNeeded && (all.length >= 1 || v4 !== null);
  return all.length === groupsNeeded;
}

interface Detector {
  kind: PiiKind;
  pattern: RegExp;
  /**
   * Whether the match is really of this kind (the default: any match is), or how much of it is: a length
   * shorter than the match keeps its start (a phone number run into the next number).
   */
  accept?: (match: RegExpExecArray) => boolean | number;
}

const SEP = '[ .\\-]?';

/**
 * In the order they claim text: a later kind's match that overlaps an earlier kind's is dropped (a card number is
 * not also a phone number; an e-mail's domain is not an IP).
 */
const DETECTORS: Detector[] = [
  {
    kind: 'email',
    pattern: /(?<![\w.%+-])[A-Za-z0-9](?:[A-Za-z0-9._%+-]{0,62}[A-Za-z0-9_%+-])?@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![\w-]|\.[A-Za-z0-9])/g,
    accept: (m) => !m[0].includes('..'),
  },
  {
    kind: 'iban',
    pattern: /(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]){11,30}(?![A-Za-z0-9])/g,
    accept: (m) => {
      // The country says how long the IBAN is; what follows it after a space ("… 3000 203.0.113.45") is cut off.
      const text = m[0];
      const length = IBAN_LENGTHS[text.slice(0, 2)];
      if (length === undefined) return false;
      let end = 0;
      for (let n = 0; end < text.length && n < length; end++) if (text[end] !== ' ') n++;
      if (end < text.length && text[end] !== ' ') return false;
      const kept = text.slice(0, end);
      // Spaced IBANs come in groups of four.
      if (kept.includes(' ') && !/^[A-Z0-9]{4}(?: [A-Z0-9]{4})*(?: [A-Z0-9]{1,4})?$/.test(kept)) return false;
      return ibanValid(kept.replace(/ /g, '')) ? end : false;
    },
  },
  {
    kind: 'card',
    // Unbroken (12 to 19 digits), or grouped the way cards print: 4-4-4-4(-1..3), Amex 4-6-5, Diners 4-6-4.
    pattern: /(?<![\w.\-/])(?:\d{12,19}|\d{4}([ -])\d{4}\1\d{4}\1\d{1,4}(?:\1\d{1,3})?|\d{4}([ -])\d{6}\2\d{4,5})(?![\w\-/]|\.\d)/g,
    accept: (m) => {
      const digits = digitsOf(m[0]);
      return digits.length >= 12 && cardIssuerKnown(digits) && luhnValid(digits);
    },
  },
  {
    kind: 'ssn',
    pattern: /(?<![\w.\-/+])(\d{3})([- ])(\d{2})\2(\d{4})(?![\w\-/:]|\.\d)/g,
    accept: (m) => ssnValid(m[1]!, m[3]!, m[4]!),
  },
  {
    kind: 'phone',
    // "+CC …" or "00CC …": 8 to 15 digits in groups (E.164), the area code perhaps in parentheses.
    pattern: new RegExp(`(?<![\\w+.\\-/])(?:\\+|00)[1-9]\\d{0,2}(?:${SEP}(?:\\(\\d{1,5}\\)|\\d{1,5})){1,6}(?![\\w\\-/]|\\.\\d)`, 'g'),
    accept: (m) => {
      // The longest run of its groups that has 8 to 15 digits (E.164): "+44 20 7946 0958 4111 1111" is a number and another.
      const text = m[0];
      for (let end = text.length; end > 0; end = text.slice(0, end).search(/[ .\-]?(?:\(\d{1,5}\)|\d{1,5})$/)) {
        const digits = digitsOf(text.slice(0, end)).length - (text.startsWith('00') ? 2 : 0);
        if (digits >= 8 && digits <= 15) return end;
        if (digits < 8) return false;
      }
      return false;
    },
  },
  {
    kind: 'phone',
    // The North American plan: area code and exchange start with 2-9; separated (a bare 10-digit run is too often an id).
    pattern: /(?<![\w.\-/+])(?:\(([2-9]\d{2})\) ?|([2-9]\d{2})([ .-]))[2-9]\d{2}[ .-]\d{4}(?![\w\-/]|\.\d)/g,
    accept: (m) => {
      if (m[2] === undefined) return true;
      // "555-123-4567": one kind of separator throughout.
      const rest = m[0].slice(4);
      return rest[3] === m[3];
    },
  },
  {
    kind: 'ip',
    pattern: /(?<![\w.:])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|\d{1,3}(?:\.\d{1,3}){3})?(?![\w:]|\.\w)/g,
    accept: (m) => ipv6Valid(m[0]),
  },
  {
    kind: 'ip',
    pattern: /(?<![\w.\-])(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}(?![\w\-]|\.\d)/g,
  },
];

/**
 * Every piece of personal data in the text, in order, none overlapping. Linear in the matches: each kind's matches
 * come in order, so they are checked against the earlier kinds' (also in order) with one moving pointer, then merged.
 */
export function findPii(original: string): PiiMatch[] {
  const folded = foldForDetection(original);
  const found = findInFolded(folded.text);
  if (folded.text === original) return found;
  // A match's end is just past its last character: mapped from that character, so trailing invisibles stay out.
  return found.map(({ kind, start, end }) => ({ kind, start: folded.originalIndex(start), end: folded.originalIndex(end - 1) + 1 }));
}

function findInFolded(text: string): PiiMatch[] {
  let claimed: PiiMatch[] = [];
  for (const { kind, pattern, accept } of DETECTORS) {
    pattern.lastIndex = 0;
    const added: PiiMatch[] = [];
    let at = 0; // the first claimed match that may still overlap what this pass finds next
    let m: RegExpExecArray | null;
    while ((m = pattern.exec(text)) !== null) {
      const start = m.index;
      const end = start + m[0].length;
      if (m[0].length === 0) {
        pattern.lastIndex++;
        continue;
      }
      const verdict = accept ? accept(m) : true;
      if (verdict === false || verdict === 0) {
        // A value may start inside a rejected candidate ("7946 0958 4111 1111 1111 1111" holds a card): look again from the next character.
        pattern.lastIndex = start + 1;
        continue;
      }
      const kept = verdict === true ? end : start + verdict;
      while (at < claimed.length && claimed[at]!.end <= start) at++;
      if (at < claimed.length && claimed[at]!.start < kept) continue;
      added.push({ kind, start, end: kept });
      if (kept < end) pattern.lastIndex = kept;
    }
    if (added.length > 0) claimed = merged(claimed, added);
  }
  return claimed;
}

function merged(a: PiiMatch[], b: PiiMatch[]): PiiMatch[] {
  if (a.length === 0) return b;
  const out: PiiMatch[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) out.push(j >= b.length || (i < a.length && a[i]!.start < b[j]!.start) ? a[i++]! : b[j++]!);
  return out;
}

export const MASKS: Record<PiiKind, string> = { email: '[EMAIL]', phone: '[PHONE]', card: '[CARD]', iban: '[IBAN]', ip: '[IP]', ssn: '[SSN]' };

export interface Masked {
  text: string;
  counts: PiiCounts;
}

/** The text with each piece of personal data replaced by its kind's mask, and how many of each it held. */
export function maskPii(text: string, counts: PiiCounts = {}): Masked {
  const found = findPii(text);
  if (found.length === 0) return { text, counts };
  let out = '';
  let at = 0;
  for (const match of found) {
    out += text.slice(at, match.start) + MASKS[match.kind];
    at = match.end;
    counts[match.kind] = (counts[match.kind] ?? 0) + 1;
  }
  return { text: out + text.slice(at), counts };
}

/** Counts as the response header writes them: "email=1, phone=2" (kinds in a fixed order), or "none". */
export function formatCounts(counts: PiiCounts): string {
  const parts = PII_KINDS.filter((kind) => (counts[kind] ?? 0) > 0).map((kind) => `${kind}=${counts[kind]}`);
  return parts.length > 0 ? parts.join(', ') : 'none';
}
