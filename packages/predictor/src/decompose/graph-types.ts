// An ONNX model as decomposition reads it: nodes, constants and every tensor's shape.
type Shape = number[];

export interface OnnxNode {
  name: string;
  op: string;
  inputs: string[];
  outputs: string[];
  attrs: Record<string, number | number[] | string>;
}

export interface Graph {
  nodes: OnnxNode[];
  /** Initializer dims, and int64/float values where small (shape and axis constants). */
  constants: Map<string, { dims: Shape; values?: number[] }>;
  /** Every tensor known before the model runs: initializers, Constant nodes, and what folds from them. */
  constantTensors: Set<string>;
  /** Values of the small constant tensors (shapes, axes, scales), folded through the nodes that compute them. */
  values: Map<string, number[]>;
  /** The tensors among those of an integer type (their Div truncates). */
  integers: Set<string>;
  /** Nodes whose inputs are all constant: the runtime computes them once, at load (constant folding). */
  folded: Set<OnnxNode>;
  shapes: Map<string, Shape>;
  input: { name: string; shape: Shape };
  output: string;
  /** Ops whose output shape could not be inferred (the graph's value_info was used, or the first input's shape). */
  guessedShapes: string[];
}
