export declare const CHROMIUM_CANDIDATES: string[];
export declare function chromiumExecutable(): string | undefined;
export declare const CHROMIUM_ARGS: string[];
export declare const MISSING_CHROMIUM: string;
