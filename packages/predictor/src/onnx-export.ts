// Predictors as standalone ONNX models, so any ONNX Runtime (Node, browser, Python) can run them
// without this project: input `features` [batch, F] (the kernel's feature vector, as
// featureVector gives it), output `latency_ms` [batch, 1].
import onnxProto from 'onnx-proto';
import type { MlpPredictorData } from './mlp-predictor.js';

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

export function exportMlpOnnx(p: MlpPredictorData): Uint8Array {
  const F = p.features.length;
  const nodes: onnxProto.onnx.INodeProto[] = [];
  const inits: onnxProto.onnx.ITensorProto[] = [
    floats('one', [], [1]), floats('mean', [F], p.mean), floats('std', [F], p.std),
  ];
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
    else if (l.activation === 'leaky-relu') op('LeakyRelu', [pre], out, [{ name: 'alpha', type: onnx.AttributeProto.AttributeType.FLOAT, f: 0.3 }]);
    else if (l.activation !== 'linear') throw new Error(`no ONNX export for activation ${l.activation}`);
  });
  return onnx.ModelProto.encode({
    irVersion: 9, opsetImport: [{ domain: '', version: 20 }], producerName: 'litepred',
    graph: { name: `${p.kernelType}_predictor`, node: nodes, initializer: inits, input: [io(PREDICTOR_INPUT, F)], output: [io(PREDICTOR_OUTPUT, 1)] },
  }).finish();
}
