/** BERT text normalization as Hugging Face `tokenizers` defines it (BertNormalizer). */
export interface BertNormalizerOptions {
  cleanText: boolean;
  handleChineseChars: boolean;
  stripAccents: boolean;
  lowercase: boolean;
}

const CONTROL = /^\p{C}$/u;
const WHITESPACE = /^[\s\p{Zs}]$/u;
const NON_SPACING_MARKS = /\p{Mn}/gu;

function isCjk(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) ||
    (cp >= 0x2b820 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

function isAsciiSimple(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

export function normalizeBert(text: string, options: BertNormalizerOptions): string {
  // Fast path: printable ASCII needs no cleaning, CJK spacing or accent stripping.
  if (isAsciiSimple(text)) return options.lowercase ? text.toLowerCase() : text;
  let out = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (options.cleanText) {
      if (ch === '\t' || ch === '\n' || ch === '\r') {
        out += ' ';
        continue;
      }
      if (cp === 0 || cp === 0xfffd || CONTROL.test(ch)) continue;
      if (WHITESPACE.test(ch)) {
        out += ' ';
        continue;
      }
    }
    out += options.handleChineseChars && isCjk(cp) ? ` ${ch} ` : ch;
  }
  if (options.lowercase) out = out.toLowerCase();
  if (options.stripAccents) out = out.normalize('NFD').replace(NON_SPACING_MARKS, '');
  return out;
}
