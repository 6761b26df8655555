"""BERT-style text normalization, pre-tokenization and a WordPiece vocabulary trainer.

The normalizer and pre-tokenizer follow the Hugging Face `tokenizers` BertNormalizer and BertPreTokenizer
(lowercase, strip accents, split on whitespace and punctuation), so the ids produced here during training are the
ids transformers.js and our TypeScript tokenizer produce at serving time from the exported tokenizer.json.
The trainer does what `tokenizers`' WordPieceTrainer does: frequency-based pair merges with a `##` prefix on
word-internal pieces, then greedy longest-match-first segmentation at inference.
"""
from __future__ import annotations

import collections
import unicodedata

SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
PREFIX = "##"
MAX_CHARS_PER_WORD = 100


def _is_control(ch: str) -> bool:
    if ch in "\t\n\r":
        return False
    return unicodedata.category(ch).startswith("C")


def _is_whitespace(ch: str) -> bool:
    return ch in " \t\n\r" or unicodedata.category(ch) == "Zs"


def _is_punctuation(ch: str) -> bool:
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def _is_cjk(cp: int) -> bool:
    return (
        0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF or 0x2A700 <= cp <= 0x2B73F
        or 0x2B740 <= cp <= 0x2B81F or 0x2B820 <= cp <= 0x2CEAF or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F
    )


def normalize(text: str) -> str:
    out = []
    for ch in text:
        cp = ord(ch)
        if cp == 0 or cp == 0xFFFD or _is_control(ch):
            continue
        if _is_whitespace(ch):
            out.append(" ")
        elif _is_cjk(cp):
            out.append(f" {ch} ")
        else:
            out.append(ch)
    text = "".join(out).lower()
    text = unicodedata.normalize("NFD", text)
    return "".join(ch for ch in text if unicodedata.category(ch) != "Mn")


def pre_tokenize(text: str) -> list[str]:
    words: list[str] = []
    current: list[str] = []
    for ch in text:
        if _is_whitespace(ch):
            if current:
                words.append("".join(current))
                current = []
        elif _is_punctuation(ch):
            if current:
                words.append("".join(current))
                current = []
            words.append(ch)
        else:
            current.append(ch)
    if current:
        words.append("".join(current))
    return words


def train_vocab(texts: list[str], vocab_size: int, min_frequency: int = 2) -> list[str]:
    """Learn a WordPiece vocabulary by merging the most frequent adjacent symbol pairs."""
    word_counts: collections.Counter[str] = collections.Counter()
    for text in texts:
        word_counts.update(pre_tokenize(normalize(text)))
    words = [w for w in word_counts if len(w) <= MAX_CHARS_PER_WORD]
    counts = [word_counts[w] for w in words]
    splits = [[w[0]] + [PREFIX + c for c in w[1:]] for w in words]

    alphabet: collections.Counter[str] = collections.Counter()
    for symbols, count in zip(splits, counts):
        alphabet.update({s: count for s in symbols})
    vocab = list(SPECIAL_TOKENS) + sorted(alphabet)
    known = set(vocab)

    pair_counts: collections.Counter[tuple[str, str]] = collections.Counter()
    pair_words: dict[tuple[str, str], set[int]] = collections.defaultdict(set)
    for i, (symbols, count) in enumerate(zip(splits, counts)):
        for pair in zip(symbols, symbols[1:]):
            pair_counts[pair] += count
            pair_words[pair].add(i)

    while len(vocab) < vocab_size and pair_counts:
        best, best_count = max(pair_counts.items(), key=lambda kv: (kv[1], kv[0]))
        if best_count < min_frequency:
            break
        merged = best[0] + best[1][len(PREFIX):]
        if merged not in known:
            vocab.append(merged)
            known.add(merged)
        for i in list(pair_words.pop(best, ())):
            symbols, count = splits[i], counts[i]
            for pair in zip(symbols, symbols[1:]):
                pair_counts[pair] -= count
                if pair_counts[pair] <= 0:
                    del pair_counts[pair]
            new_symbols: list[str] = []
            j = 0
            while j < len(symbols):
                if j + 1 < len(symbols) and (symbols[j], symbols[j + 1]) == best:
                    new_symbols.append(merged)
                    j += 2
                else:
                    new_symbols.append(symbols[j])
                    j += 1
            splits[i] = new_symbols
            for pair in zip(new_symbols, new_symbols[1:]):
                pair_counts[pair] += count
                pair_words[pair].add(i)
        pair_counts.pop(best, None)
    return vocab


class WordPieceTokenizer:
    def __init__(self, vocab: list[str], max_length: int):
        self.vocab = vocab
        self.ids = {token: i for i, token in enumerate(vocab)}
        self.max_length = max_length
        self.pad_id, self.unk_id, self.cls_id, self.sep_id, self.mask_id = (self.ids[t] for t in SPECIAL_TOKENS)

    def word_ids(self, word: str) -> list[int]:
        if len(word) > MAX_CHARS_PER_WORD:
            return [self.unk_id]
        pieces: list[int] = []
        start = 0
        while start < len(word):
            end = len(word)
            found = None
            while start < end:
                piece = word[start:end] if start == 0 else PREFIX + word[start:end]
                if piece in self.ids:
                    found = self.ids[piece]
                    break
                end -= 1
            if found is None:
                return [self.unk_id]
            pieces.append(found)
            start = end
        return pieces

    def encode(self, text: str) -> list[int]:
        """[CLS] pieces [SEP], truncated to max_length like transformers.js does with truncation on."""
        ids: list[int] = []
        for word in pre_tokenize(normalize(text)):
            ids.extend(self.word_ids(word))
        return [self.cls_id] + ids[: self.max_length - 2] + [self.sep_id]
