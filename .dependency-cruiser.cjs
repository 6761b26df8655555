/**
 * Which way imports may point (docs/ARCHITECTURE.md draws it). test/architecture/import-direction.test.ts runs
 * these rules over functions/, infra/ and models/tools/ on every `npm test`; by hand:
 *   npx depcruise functions infra models/tools --config .dependency-cruiser.cjs
 * Tests and benchmarks may import anything, so they are not cruised.
 */

/**
 * The layers of functions/, bottom to top, each with the folders it may import besides its own. A layer that is
 * not listed under mayImport is out of bounds, and so is a folder that has no row here yet: a new capability
 * (functions/tuning/, functions/policy/, ...) gets its row, and so its place, before it gets imported.
 */
const layers = [
  // The error shape, JSON body reading, validation and the per-request contract: what every layer answers with.
  { folder: 'http', mayImport: [] },
  // The catalog of models, prices and upstreams, which billing reads as much as the engines do.
  { folder: 'registry', mayImport: ['http'] },
  // Tokenizers, classification, generation and model loading: runnable without any route around them.
  { folder: 'engine', mayImport: ['registry', 'http'] },
  // The OpenAI wire shapes, shared by the router and the generation server so that both speak the same protocol.
  { folder: 'protocol', mayImport: ['engine', 'http'] },
  // The router's client of OpenAI-compatible GPU upstreams.
  { folder: 'upstream', mayImport: ['http', 'registry', 'protocol', 'engine', 'observability'] },
  // Keys, limits and usage: it throws its own errors and reads the catalog, but knows no route of the app.
  { folder: 'billing', mayImport: ['http', 'registry'] },
  // Metrics and traces (issue 14): an interface the entries implement, middleware, and the spans upstream calls
  // open; it reads billing's stream-end helper (a body with a hook at its end).
  { folder: 'observability', mayImport: ['http', 'engine', 'billing'] },
  // Privacy policies (issue 14): PII detection and masking, the policy store, zero retention over billing's replay store, region pins (registry's REGIONS).
  { folder: 'privacy', mayImport: ['http', 'registry', 'billing'] },
  // Traffic routes (issue 14): aliases split between versions by weight, sticky per key, shadow runs compared.
  { folder: 'traffic', mayImport: ['http', 'registry', 'engine'] },
  // The core routes. Billing and the generation server are composed around it by the entries, never imported.
  { folder: 'app', mayImport: ['http', 'registry', 'engine', 'protocol', 'upstream', 'privacy', 'traffic'] },
  // The generation server app: its own deployable, so it shares the protocol and engines, not the router.
  { folder: 'generation', mayImport: ['http', 'protocol', 'engine', 'registry'] },
  // Fine-tuning: files, jobs, the trainer and tenant models. It joins the app as a plugin (routes) and as the
  // app's TenantModels; it reads billing's SQL interface, and billing never imports it.
  { folder: 'tuning', mayImport: ['http', 'registry', 'engine', 'billing', 'privacy'] },
  // The web console: static pages and their client, served by the app as a plugin (never imported by the core).
  { folder: 'console', mayImport: ['http'] },
  // Composition roots. Node's libraries (local-app, billing-setup, ...) are reused by Lambda, so node/ has no
  // entry above it; it never reaches into the other runtimes' entries.
  { folder: 'node', mayImport: ['http', 'registry', 'engine', 'protocol', 'upstream', 'billing', 'app', 'generation', 'tuning', 'console', 'privacy', 'traffic', 'observability'] },
  // The Worker's modules are Workers-only (.wasm, bundled .onnx, D1, Durable Objects) and Node's are Node-only, so
  // neither imports the other.
  { folder: 'worker', mayImport: ['http', 'registry', 'engine', 'protocol', 'upstream', 'billing', 'app', 'generation', 'tuning', 'console', 'privacy', 'traffic', 'observability'] },
  // Lambda runs Node, so it reuses node/'s libraries; the Node entry files are forbidden by their own rule below.
  {
    folder: 'lambda',
    mayImport: ['http', 'registry', 'engine', 'protocol', 'upstream', 'billing', 'app', 'generation', 'tuning', 'node', 'privacy', 'traffic', 'observability'],
  },
];

const folderPattern = (folders) => `^functions/(${folders.join('|')})/`;

const layerRules = layers.map(({ folder, mayImport }) => ({
  name: `${folder}-imports-outside-its-layers`,
  comment:
    `functions/${folder}/ may import ${mayImport.length === 0 ? 'nothing else in functions/' : mayImport.map((f) => `${f}/`).join(', ')}: ` +
    'dependencies point one way (docs/ARCHITECTURE.md), so that each layer can be read, tested and replaced without the ones above it.',
  severity: 'error',
  from: { path: folderPattern([folder]) },
  to: { path: '^functions/', pathNot: folderPattern([folder, ...mayImport]) },
}));

/** Everything in functions/ except the runtimes' composition roots: Web-standard APIs only (DESIGN.md). */
const core = { path: '^functions/', pathNot: '^functions/(node|lambda|worker|console/build)/' };

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'functions-folder-without-a-layer',
      comment:
        'Every folder of functions/ has a row in the layers of .dependency-cruiser.cjs, which says what it may import; ' +
        'a folder without one would be unchecked.',
      severity: 'error',
      from: { path: '^functions/', pathNot: folderPattern(layers.map((l) => l.folder)) },
      to: {},
    },
    {
      name: 'lambda-not-the-node-entries',
      comment:
        "Lambda reuses node/'s libraries, never its entry files (importing one starts a server or a CLI) nor the " +
        'start-* files that open a Node listener, which Lambda has no use for.',
      severity: 'error',
      from: { path: '^functions/lambda/' },
      to: {
        path: '^functions/node/(server|start-server|generation-server|start-generation-server|[^/]+-cli)\\.ts$',
      },
    },
    {
      name: 'core-no-node-builtins',
      comment:
        'The app core runs in workerd as well as in Node and Lambda: Web-standard APIs only; what a runtime ' +
        'provides (files, sockets, processes) is injected by its entry.',
      severity: 'error',
      from: core,
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'core-no-runtime-packages',
      comment:
        'Packages that only one runtime can load (native onnxruntime-node and better-sqlite3, the Node HTTP ' +
        "adapter, Hono's Lambda adapter, workerd's compiled .wasm and cloudflare: modules) belong to that runtime's entry.",
      severity: 'error',
      from: core,
      to: {
        path: [
          '^node_modules/(onnxruntime-node|better-sqlite3|@hono/node-server)/',
          '^node_modules/hono/dist/adapter/',
          '\\.wasm$',
          '^cloudflare:',
        ],
      },
    },
    {
      name: 'production-not-tools-tests-benches',
      comment:
        'What is deployed (functions/, infra/) must build without the model tools, the tests and the benchmarks; ' +
        'those may import production code, not the other way round.',
      severity: 'error',
      from: { path: '^(functions|infra)/' },
      to: { path: '^(models/tools|test|bench)/' },
    },
    {
      name: 'no-circular',
      comment:
        'A cycle has no bottom: neither module can be understood, tested or moved without the other, and the ' +
        'layers above lose their meaning.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-unresolvable',
      comment: 'An import the check cannot resolve is an import it cannot judge.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^infra/cdk\\.out/' },
    // Type-only imports count: a layer that needs another's types depends on it all the same.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default'],
    },
  },
};
