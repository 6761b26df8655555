// Values written with fullwidth forms or broken by invisible characters are personal data all the same: a detector
// reading the raw code units missed "jane＠example.com" and an e-mail with a zero-width space in it (hostile test).
import { describe, expect, it } from 'vitest';
import { findPii, maskPii } from '../../functions/privacy/pii-detect.js';

describe('PII written in fullwidth forms or with invisible characters', () => {
  it('is found and masked in place, the rest of the text left as it was', () => {
    const cases: [string, string][] = [
      ['write to jane＠example．com today', 'write to [EMAIL] today'],
      ['ＡＢＣ jane.doe＠ｅｘａｍｐｌｅ.com', 'ＡＢＣ [EMAIL]'],
      ['mail jane\u200b.doe@example.com now', 'mail [EMAIL] now'],
      ['jane@exam\u00adple.com\u200b', '[EMAIL]\u200b'],
      ['card ４１１１ １１１１ １１１１ １１１１ ok', 'card [CARD] ok'],
      ['card 4111\u200b1111\u200b1111\u200b1111', 'card [CARD]'],
      ['call +４４ ２０ ７９４６ ０９５８', 'call [PHONE]'],
    ];
    for (const [text, masked] of cases) expect({ text, masked: maskPii(text).text }).toEqual({ text, masked });
  });

  it('finds nothing in fullwidth text without personal data, and keeps plain text on its fast path', () => {
    for (const text of ['version ２.０.１ of ＡＢＣ', 'order ＃１２３４５ on ２０２６-１２-０４', 'a zero\u200bwidth space']) expect(findPii(text)).toEqual([]);
    expect(findPii('jane@example.com')).toEqual([{ kind: 'email', start: 0, end: 16 }]);
  });
});
