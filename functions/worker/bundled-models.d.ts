/** The registry file's bytes. */
export declare const registryBytes: ArrayBuffer;
/** Bundled files by registry folder, then by path inside the folder. */
export declare const modelFolders: Record<string, Record<string, ArrayBuffer>>;
