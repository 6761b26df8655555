import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { chatPromptIds, plainChatPrompt } from '../../functions/generation/chat-prompt.js';
import { createGenerationApp } from '../../functions/generation/create-generation-app.js';
import { storiesDir } from '../paths.js';
import { storiesEngine } from './helpers.js';

// A Llama-2-style template: BOS written by the template, EOS after assistant turns, roles must alternate.
const LLAMA2_STYLE = "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('roles must alternate user/assistant') }}{% endif %}"
  + "{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% else %}{{ ' ' + message['content'] + eos_token }}{% endif %}{% endfor %}";

async function templated() {
  const config = JSON.parse(await readFile(`${storiesDir}/tokenizer_config.json`, 'utf8')) as Record<string, unknown>;
  return storiesEngine({}, { 'tokenizer_config.json': { ...config, chat_template: LLAMA2_STYLE } });
}

describe('chat prompts', () => {
  it("render the model's chat template, with its special tokens as tokens and no second BOS", async () => {
    const engine = await templated();
    const ids = chatPromptIds(engine, [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Hello' }, { role: 'user', content: 'Tell a story' }]);
    const t = engine.tokenizer;
    expect(ids[0]).toBe(t.bosId);
    expect(ids.filter((id) => id === t.bosId)).toHaveLength(1);
    expect(ids.filter((id) => id === t.eosId)).toHaveLength(1);
    // Each text segment gets SentencePiece's leading space, as Hugging Face's legacy Llama tokenizers give it.
    expect(t.decode(ids)).toBe('[INST] Hi [/INST] Hello [INST] Tell a story [/INST]');
  });

  it("answer 400 when the template refuses the conversation", async () => {
    const app = createGenerationApp({ models: new Map([['stories260K', await templated()]]), requestTimeoutMs: 10_000 });
    const res = await app.request('/v1/chat/completions', {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'stories260K', messages: [{ role: 'assistant', content: 'first' }], max_tokens: 5 }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/roles must alternate/);
  });

  it('use the plain template for a model without one', async () => {
    const engine = await storiesEngine();
    expect(engine.chatTemplate).toBeNull();
    const messages = [{ role: 'system' as const, content: 'Be brief.' }, { role: 'user' as const, content: 'Hi' }];
    expect(plainChatPrompt(messages)).toBe('System: Be brief.\n\nUser: Hi\n\nAssistant:');
    expect(chatPromptIds(engine, messages)).toEqual(engine.tokenizer.encode(plainChatPrompt(messages)));
  });

  it('refuse more messages than the context or 2,048 before rendering them, and render what fits', async () => {
    const config = JSON.parse(await readFile(`${storiesDir}/config.json`, 'utf8')) as Record<string, unknown>;
    const plain = await storiesEngine();
    const long = await storiesEngine({}, { 'config.json': { ...config, max_position_embeddings: 100_000 } });
    const chat = (n: number) => Array.from({ length: n }, (_, i) => ({ role: i % 2 ? ('assistant' as const) : ('user' as const), content: 'hi' }));
    expect(() => chatPromptIds(plain, chat(600))).toThrow(/maximum context length is 512 tokens; 600 messages take at least 600 tokens/);
    expect(() => chatPromptIds(plain, chat(400))).toThrow(/the prompt is \d+ characters|the prompt has at least \d+ tokens/); // rendered, then refused by its bytes
    expect(() => chatPromptIds(long, chat(2_049))).toThrow(/"messages" holds 2049 messages; at most 2048 are allowed/);
    expect(chatPromptIds(long, chat(2_048)).length).toBeGreaterThan(2_048);
  });
});
