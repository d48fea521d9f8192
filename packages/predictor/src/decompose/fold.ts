// Constant folding of the small tensors exporters compute shapes with (Shape -> Gather -> Concat ->
// Reshape, the attention scale from Shape -> Slice -> Cast -> Sqrt -> Div, ...). ONNX Runtime folds
// every node whose inputs are all constant when it loads a model, so those nodes cost nothing at
// run time; their values are what shape inference needs to read the Reshapes they feed.

/** Tensors with at most this many elements have their values tracked. */
export const MAX_TRACKED_ELEMENTS = 64;

type Values = number[] | undefined;

const elementwise2 = (a: number[], b: number[], f: (x: number, y: number) => number): Values => {
  if (a.length !== b.length && a.length !== 1 && b.length !== 1) return undefined;
  const n = Math.max(a.length, b.length);
  return Array.from({ length: n }, (_, i) => f(a[a.length === 1 ? 0 : i]!, b[b.length === 1 ? 0 : i]!));
};

const normAxis = (axis: number, rank: number) => (axis < 0 ? axis + rank : axis);

/**
 * The values of a node's first output from its inputs' values (undefined where an input's values
 * are not known or the op is not one shape computations use). `inShapes` are the inputs' shapes;
 * `integer`, whether the output is of an integer type.
 */
export function foldValues(
  op: string,
  inputs: Values[],
  inShapes: number[][],
  attrs: Record<string, unknown>,
  outShape: number[],
  integer = false,
): Values {
  const [a, b, c] = inputs;
  const count = outShape.reduce((p, d) => p * d, 1);
  switch (op) {
    case 'Shape': {
      const start = (attrs.start as number | undefined) ?? 0;
      const s = inShapes[0] ?? [];
      return s.length && s.every((d) => d > 0)
        ? s.slice(normAxis(start, s.length), attrs.end === undefined ? undefined : normAxis(attrs.end as number, s.length))
        : undefined;
    }
    case 'Identity':
    case 'Cast':
    case 'Unsqueeze':
    case 'Squeeze':
    case 'Reshape':
    case 'Flatten':
      return a;
    case 'Sqrt':
      return a?.map(Math.sqrt);
    case 'Floor':
      return a?.map(Math.floor);
    case 'Ceil':
      return a?.map(Math.ceil);
    case 'Neg':
      return a?.map((v) => -v);
    case 'Add':
      return a && b ? elementwise2(a, b, (x, y) => x + y) : undefined;
    case 'Sub':
      return a && b ? elementwise2(a, b, (x, y) => x - y) : undefined;
    case 'Mul':
      return a && b ? elementwise2(a, b, (x, y) => x * y) : undefined;
    case 'Div':
      return a && b ? elementwise2(a, b, (x, y) => (integer ? Math.trunc(x / y) : x / y)) : undefined;
    case 'Equal':
      return a && b ? elementwise2(a, b, (x, y) => Number(x === y)) : undefined;
    case 'Where': {
      if (!a || !b || !c) return undefined;
      const n = Math.max(a.length, b.length, c.length);
      const at = (v: number[], i: number) => v[v.length === 1 ? 0 : i]!;
      return Array.from({ length: n }, (_, i) => (at(a, i) ? at(b, i) : at(c, i)));
    }
    case 'ConstantOfShape': {
      const fill = (attrs.value as number[] | undefined)?.[0] ?? 0;
      return count <= MAX_TRACKED_ELEMENTS ? new Array<number>(count).fill(fill) : undefined;
    }
    case 'Gather': {
      if (!a || !b || (inShapes[0]?.length ?? 0) > 1) return undefined;
      return b.map((i) => a[i < 0 ? i + a.length : i]!).filter((v) => v !== undefined);
    }
    case 'Concat':
      return inputs.every((v) => v !== undefined) && (inShapes[0]?.length ?? 0) <= 1 ? inputs.flatMap((v) => v!) : undefined;
    case 'Slice': {
      const [starts, ends, axes, steps] = [inputs[1], inputs[2], inputs[3], inputs[4]];
      if (!a || !starts || !ends || (inShapes[0]?.length ?? 0) > 1 || (axes && normAxis(axes[0]!, 1) !== 0)) return undefined;
      const step = steps?.[0] ?? 1;
      const clamp = (v: number) => Math.max(0, Math.min(a.length, v < 0 ? v + a.length : v));
      if (step !== 1) return undefined;
      return a.slice(clamp(starts[0]!), clamp(ends[0]!));
    }
    case 'Range':
      return a && b && c && c[0] !== 0
        ? Array.from({ length: Math.max(0, Math.ceil((b[0]! - a[0]!) / c[0]!)) }, (_, i) => a[0]! + i * c[0]!)
        : undefined;
  }
  return undefined;
}
