// A boosted-tree predictor as a standalone ONNX model: ai.onnx.ml's TreeEnsembleRegressor (run by
// onnxruntime-node and onnxruntime-web, tested) summing the trees' log(ms), added to the log of the
// roofline prior's graph where there is one, then Exp. Input `features` [batch, F] (the raw feature
// vector; with a prior, activation MB as a last column, as the roofline reads it); output
// `latency_ms` [batch, 1], like the other exported predictors.
import onnxProto from 'onnx-proto';
import type { GbdtPredictorData } from './gbdt.js';
import {
  encodePredictorGraph,
  exportRooflineOnnx,
  onnxInputs,
  PREDICTOR_INPUT,
  PREDICTOR_OUTPUT,
  type Calibration,
} from './onnx-export.js';

const { onnx } = onnxProto;
const A = onnx.AttributeProto.AttributeType;

/** Trees (on their roofline prior, where they have one), optionally with a transfer's calibration after them. */
export function exportGbdtOnnx(p: GbdtPredictorData, calibration?: Calibration): Uint8Array {
  const n = {
    treeids: [] as number[],
    nodeids: [] as number[],
    featureids: [] as number[],
    modes: [] as string[],
    values: [] as number[],
    truenodeids: [] as number[],
    falsenodeids: [] as number[],
  };
  const t = { treeids: [] as number[], nodeids: [] as number[], weights: [] as number[] };
  p.trees.forEach((tree, ti) =>
    tree.forEach((node, ni) => {
      const leaf = node.feature < 0;
      n.treeids.push(ti);
      n.nodeids.push(ni);
      n.featureids.push(leaf ? 0 : node.feature);
      n.modes.push(leaf ? 'LEAF' : 'BRANCH_LEQ');
      n.values.push(leaf ? 0 : node.threshold);
      n.truenodeids.push(leaf ? 0 : node.left);
      n.falsenodeids.push(leaf ? 0 : node.right);
      if (leaf) {
        t.treeids.push(ti);
        t.nodeids.push(ni);
        t.weights.push(node.value);
      }
    }),
  );
  const ints = (name: string, v: number[]) => ({ name, type: A.INTS, ints: v });
  const floats = (name: string, v: number[]) => ({ name, type: A.FLOATS, floats: v });
  const ensemble: onnxProto.onnx.INodeProto = {
    opType: 'TreeEnsembleRegressor',
    domain: 'ai.onnx.ml',
    name: 'trees',
    input: [PREDICTOR_INPUT],
    output: ['log_ms'],
    attribute: [
      { name: 'n_targets', type: A.INT, i: 1 },
      { name: 'aggregate_function', type: A.STRING, s: new TextEncoder().encode('SUM') },
      floats('base_values', [p.base]),
      ints('nodes_treeids', n.treeids),
      ints('nodes_nodeids', n.nodeids),
      ints('nodes_featureids', n.featureids),
      { name: 'nodes_modes', type: A.STRINGS, strings: n.modes.map((m) => new TextEncoder().encode(m)) },
      floats('nodes_values', n.values),
      ints('nodes_truenodeids', n.truenodeids),
      ints('nodes_falsenodeids', n.falsenodeids),
      ints('target_treeids', t.treeids),
      ints('target_nodeids', t.nodeids),
      ints(
        'target_ids',
        t.treeids.map(() => 0),
      ),
      floats('target_weights', t.weights),
    ],
  };
  const nodes: onnxProto.onnx.INodeProto[] = [ensemble];
  const inits: onnxProto.onnx.ITensorProto[] = [];
  let logMs = 'log_ms';
  if (p.prior) {
    // The roofline's own graph, reading the same input (its last column is activation MB), ending in prior_ms.
    const roofline = onnx.ModelProto.decode(exportRooflineOnnx(p.prior, p.features)).graph!;
    for (const n of roofline.node ?? []) {
      nodes.push({ ...n, name: `prior_${n.name}`, output: n.output!.map((o) => (o === PREDICTOR_OUTPUT ? 'prior_ms' : o)) });
    }
    inits.push(...(roofline.initializer ?? []));
    nodes.push({ opType: 'Log', name: 'prior_log', input: ['prior_ms'], output: ['prior_log'] });
    nodes.push({ opType: 'Add', name: 'with_prior', input: ['prior_log', 'log_ms'], output: ['with_prior'] });
    logMs = 'with_prior';
  }
  nodes.push({ opType: 'Exp', name: PREDICTOR_OUTPUT, input: [logMs], output: [PREDICTOR_OUTPUT] });
  return encodePredictorGraph(`${p.kernelType}_gbdt_predictor`, nodes, inits, onnxInputs(p, p.features).length, calibration, [
    { domain: 'ai.onnx.ml', version: 3 },
  ]);
}
