/**
 * Chat messages to prompt token ids. A model whose tokenizer_config.json has a chat_template gets it rendered
 * (Jinja, with messages, bos_token, eos_token and add_generation_prompt), as Hugging Face's apply_chat_template
 * does. Other models get one documented plain template:
 *
 *   System: <system or developer content>\n\nUser: <content>\n\nAssistant: <content>\n\n ... Assistant:
 *
 * and the model continues after the final "Assistant:".
 */
import { Template } from '@huggingface/jinja';
import { invalidRequest } from '../http/errors.js';
import type { GenerationEngine } from '../engine/generation/generation-engine.js';
import type { ChatMessage } from '../protocol/openai-schemas.js';
import { messageText } from '../protocol/request-text.js';
import { checkMessagesFit, checkPromptFits } from './prompt-limits.js';

const ROLE_NAMES: Record<ChatMessage['role'], string> = { system: 'System', developer: 'System', user: 'User', assistant: 'Assistant' };

export function plainChatPrompt(messages: ChatMessage[]): string {
  return `${messages.map((m) => `${ROLE_NAMES[m.role]}: ${messageText(m.content)}`).join('\n\n')}\n\nAssistant:`;
}

const compiled = new Map<string, Template>();

/** `reserved`: tokens the reply needs; a conversation that cannot fit beside them is refused before any work. */
export function chatPromptIds(engine: GenerationEngine, messages: ChatMessage[], reserved = 1): number[] {
  checkMessagesFit(engine, messages, reserved);
  const source = engine.chatTemplate;
  if (!source) {
    const prompt = plainChatPrompt(messages);
    checkPromptFits(engine, prompt, { addBos: true, reserved, param: 'messages' });
    return engine.tokenizer.encode(prompt);
  }
  let template = compiled.get(source);
  if (!template) compiled.set(source, (template = new Template(source)));
  let rendered: string;
  try {
    rendered = template.render({
      messages: messages.map((m) => ({ role: m.role === 'developer' ? 'system' : m.role, content: messageText(m.content) })),
      bos_token: engine.tokenizer.piece(engine.tokenizer.bosId),
      eos_token: engine.tokenizer.piece(engine.tokenizer.eosId),
      add_generation_prompt: true,
    });
  } catch (error) {
    // Templates refuse conversations they cannot format (roles out of order, say) with raise_exception.
    throw invalidRequest(`the model's chat template refused these messages: ${error instanceof Error ? error.message : String(error)}`, 'messages');
  }
  checkPromptFits(engine, rendered, { addBos: false, reserved, param: 'messages' });
  return engine.tokenizer.encodeTemplated(rendered);
}
