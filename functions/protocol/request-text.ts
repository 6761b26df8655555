/** The text of an OpenAI request, as the router (to bound what it reserves) and the generation server read it. */
import type { ChatMessage, CompletionRequest } from './openai-schemas.js';

/** A message's content, a string or its text parts joined. */
export const messageText = (content: ChatMessage['content']): string => (typeof content === 'string' ? content : content.map((part) => part.text).join(''));

/** The completion's one prompt (a string, or an array holding one). */
export const promptText = (request: CompletionRequest): string => (typeof request.prompt === 'string' ? request.prompt : request.prompt[0]!);
