/**
 * Chat messages to a prompt. Models whose tokenizer_config.json has a chat_template need a Jinja engine this
 * server does not carry, so every model gets one documented plain template:
 *
 *   System: <system or developer content>\n\nUser: <content>\n\nAssistant: <content>\n\n ... Assistant:
 *
 * and the model continues after the final "Assistant:".
 */
import type { ChatMessage } from './openai-schemas.js';

const ROLE_NAMES: Record<ChatMessage['role'], string> = { system: 'System', developer: 'System', user: 'User', assistant: 'Assistant' };

export const messageText = (content: ChatMessage['content']) => (typeof content === 'string' ? content : content.map((part) => part.text).join(''));

export function chatPrompt(messages: ChatMessage[]): string {
  return `${messages.map((m) => `${ROLE_NAMES[m.role]}: ${messageText(m.content)}`).join('\n\n')}\n\nAssistant:`;
}
