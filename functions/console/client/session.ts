/**
 * What the user signed in with: the API key and the admin token, each kept in sessionStorage (this tab only, gone
 * when it closes), never in a URL, a cookie or localStorage, and never written to the console.
 */
const API_KEY = 'edge-maas.api-key';
const ADMIN_TOKEN = 'edge-maas.admin-token';

const read = (name: string): string | null => {
  try {
    return sessionStorage.getItem(name);
  } catch {
    return null; // storage switched off: the user signs in again on each page
  }
};
const write = (name: string, value: string | null) => {
  try {
    if (value) sessionStorage.setItem(name, value);
    else sessionStorage.removeItem(name);
  } catch {
    // nothing to keep it in
  }
};

export const session = {
  apiKey: () => read(API_KEY),
  adminToken: () => read(ADMIN_TOKEN),
  setApiKey: (key: string | null) => write(API_KEY, key?.trim() || null),
  setAdminToken: (token: string | null) => write(ADMIN_TOKEN, token?.trim() || null),
};
