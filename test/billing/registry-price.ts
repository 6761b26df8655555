import { readLocalRegistry } from '../../functions/node/local-app.js';
import type { Price } from '../../functions/registry/registry.js';

/** A registry model's price, read from models/registry.json as the Node servers read it. */
export const registryPrice = async (model: string): Promise<Price> => (await readLocalRegistry()).resolve(model)!.price;
