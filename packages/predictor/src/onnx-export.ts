// Predictors as standalone ONNX models, so any ONNX Runtime (Node, browser, Python) can run them
// without this project: input `features` [batch, F] (the kernel's feature vector, as
// featureVector gives it), output `latency_ms` [batch, 1].
import onnxProto from 'onnx-proto';
import type { GbdtPredictorData } from './gbdt.js';
import type { MlpPredictorData } from './mlp-predictor.js';
import type { RooflinePredictorData } from './roofline-predictor.js';

const { onnx } = onnxProto;

function floats(name: string, dims: number[], values: ArrayLike<number>): onnxProto.onnx.ITensorProto {
  const data = Float32Array.from(values as ArrayLike<number>);
  return { name, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: new Uint8Array(data.buffer) };
}

const io = (name: string, width: number): onnxProto.onnx.IValueInfoProto => ({
  name,
  type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: [{ dimParam: 'batch' }, { dimValue: width }] } } },
});

export const PREDICTOR_INPUT = 'features';
export const PREDICTOR_OUTPUT = 'latency_ms';

const ints = (name: string, values: number[]): onnxProto.onnx.ITensorProto => ({
  name,
  dims: [values.length],
  dataType: onnx.TensorProto.DataType.INT64,
  int64Data: values,
});

/** A transferred predictor's map onto the new device: ms = exp(a) · source_ms^b (transfer.ts). */
export interface Calibration {
  a: number;
  b: number;
}

/**
 * A predictor graph as ONNX bytes: `nodes` end in PREDICTOR_OUTPUT; with a calibration, the
 * transfer's map follows them. `opsets` adds operator domains (ai.onnx.ml for tree ensembles).
 */
export function encodePredictorGraph(
  name: string,
  nodes: onnxProto.onnx.INodeProto[],
  inits: onnxProto.onnx.ITensorProto[],
  inputWidth: number,
  calibration?: Calibration,
  opsets: onnxProto.onnx.IOperatorSetIdProto[] = [],
): Uint8Array {
  if (calibration) {
    // The source graph ends in `source_ms`; the calibration follows it, as RecalibratedPredictor does.
    for (const n of nodes) {
      n.output = n.output!.map((o) => (o === PREDICTOR_OUTPUT ? 'source_ms' : o));
      if (n.name === PREDICTOR_OUTPUT) n.name = 'source_ms';
    }
    const op = (opType: string, input: string[], output: string) => nodes.push({ opType, input, output: [output], name: output });
    op('Max', ['source_ms', 'cal_floor'], 'cal_clamped');
    op('Log', ['cal_clamped'], 'cal_log');
    op('Mul', ['cal_log', 'cal_b'], 'cal_scaled');
    op('Add', ['cal_scaled', 'cal_a'], 'cal_shifted');
    op('Exp', ['cal_shifted'], PREDICTOR_OUTPUT);
    inits.push(floats('cal_floor', [], [1e-9]), floats('cal_a', [], [calibration.a]), floats('cal_b', [], [calibration.b]));
  }
  return onnx.ModelProto.encode({
    irVersion: 9,
    opsetImport: [{ domain: '', version: 20 }, ...opsets],
    producerName: 'litepred',
    graph: { name, node: nodes, initializer: inits, input: [io(PREDICTOR_INPUT, inputWidth)], output: [io(PREDICTOR_OUTPUT, 1)] },
  }).finish();
}

/**
 * The feature columns an exported predictor reads, in order (the ONNX input's width): a roofline (or trees on one) also reads activation
 * MB.
 */
export function onnxInputs(p: MlpPredictorData | RooflinePredictorData | GbdtPredictorData, features: readonly string[]): string[] {
  return p.kind === 'roofline' || (p.kind === 'gbdt' && p.prior) ? [...features, 'ACTIVATION_MB'] : [...features];
}

/**
 * The roofline predictor: input = the feature vector plus activation MB (MiB of activations
 * read and written) as a last column, since the feature vector has FLOPS and PARAMS but not bytes.
 */
export function exportRooflineOnnx(p: RooflinePredictorData, features: readonly string[], calibration?: Calibration): Uint8Array {
  const F = features.length;
  const [flops, params] = [features.indexOf('FLOPS'), features.indexOf('PARAMS')];
  const [c0, c1, c2, c3] = p.coefficients as [number, number, number, number];
  const coef = new Array<number>(F + 1).fill(0);
  coef[flops] = c1;
  coef[params] = (c3 * 4e6) / 2 ** 20; // PARAMS is in millions; weight MB = 4 bytes each
  coef[F] = c2;
  const nodes: onnxProto.onnx.INodeProto[] = [];
  const op = (opType: string, input: string[], output: string) => nodes.push({ opType, input, output: [output], name: output });
  op('MatMul', [PREDICTOR_INPUT, 'coef'], 'linear');
  op('Add', ['linear', 'c0'], 'roof_raw');
  op('Max', ['roof_raw', 'floor'], 'roof');
  op('Slice', [PREDICTOR_INPUT, 'start', 'end', 'axis'], 'feats');
  op('Add', ['feats', 'one'], 'shifted');
  op('Log', ['shifted'], 'logged');
  op('Sub', ['logged', 'mean'], 'centred');
  op('Div', ['centred', 'std'], 'z');
  op('MatMul', ['z', 'beta'], 'zb');
  op('Add', ['zb', 'bias'], 'log_residual');
  op('Exp', ['log_residual'], 'residual');
  op('Mul', ['roof', 'residual'], PREDICTOR_OUTPUT);
  const inits = [
    floats('coef', [F + 1, 1], coef),
    floats('c0', [], [c0]),
    floats('floor', [], [1e-6]),
    floats('one', [], [1]),
    ints('start', [0]),
    ints('end', [F]),
    ints('axis', [1]),
    floats('mean', [F], p.residual.mean),
    floats('std', [F], p.residual.std),
    floats('beta', [F, 1], p.residual.beta),
    floats('bias', [], [p.residual.bias]),
  ];
  return encodePredictorGraph(`${p.kernelType}_roofline_predictor`, nodes, inits, F + 1, calibration);
}

export function exportMlpOnnx(p: MlpPredictorData, calibration?: Calibration): Uint8Array {
  const F = p.features.length;
  const nodes: onnxProto.onnx.INodeProto[] = [];
  const inits: onnxProto.onnx.ITensorProto[] = [floats('one', [], [1]), floats('mean', [F], p.mean), floats('std', [F], p.std)];
  const op = (opType: string, input: string[], output: string, attribute: onnxProto.onnx.IAttributeProto[] = []) =>
    nodes.push({ opType, input, output: [output], name: output, attribute });
  op('Add', [PREDICTOR_INPUT, 'one'], 'shifted');
  op('Log', ['shifted'], 'logged');
  op('Sub', ['logged', 'mean'], 'centred');
  op('Div', ['centred', 'std'], 'h0');
  p.net.layers.forEach((l, i) => {
    inits.push(floats(`w${i}`, [l.inputs, l.outputs], l.w), floats(`b${i}`, [l.outputs], l.b));
    op('MatMul', [`h${i}`, `w${i}`], `mm${i}`);
    const last = i === p.net.layers.length - 1;
    const pre = l.activation === 'linear' ? (last ? PREDICTOR_OUTPUT : `h${i + 1}`) : `z${i}`;
    op('Add', [`mm${i}`, `b${i}`], pre);
    const out = last ? PREDICTOR_OUTPUT : `h${i + 1}`;
    if (l.activation === 'relu') op('Relu', [pre], out);
    else if (l.activation === 'leaky-relu')
      op('LeakyRelu', [pre], out, [{ name: 'alpha', type: onnx.AttributeProto.AttributeType.FLOAT, f: 0.3 }]);
    else if (l.activation !== 'linear') throw new Error(`no ONNX export for activation ${l.activation}`);
  });
  return encodePredictorGraph(`${p.kernelType}_predictor`, nodes, inits, F, calibration);
}
