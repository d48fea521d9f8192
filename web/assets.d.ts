/** The bundled pages: agent.html, dashboard.html and their scripts (made by `node web/build.mjs`). */
export declare const webDistDir: string;
/** onnxruntime-web's dist folder: the .wasm and .mjs files the browser agent loads. */
export declare const ortWebDistDir: string;
