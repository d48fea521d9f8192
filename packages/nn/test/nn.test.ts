import { describe, expect, it } from 'vitest';
import { Adam, cosineLr, Mlp, seededRng, weightedSampler, type Activation } from '@litepred/nn';

/** Loss = sum(output * fixed coefficients), so d loss / d output = the coefficients. */
function lossOf(net: Mlp, x: Float64Array, batch: number, coef: Float64Array): number {
  return net.output(net.forward(x, batch)).reduce((s, v, i) => s + v * coef[i]!, 0);
}

describe('Mlp backpropagation', () => {
  it.each<Activation[]>([
    ['relu', 'linear'],
    ['tanh', 'sigmoid'],
    ['sigmoid', 'tanh', 'linear'],
    ['leaky-relu', 'relu', 'linear'],
  ])('matches central finite differences for %s layers', (...acts) => {
    const r = seededRng(3);
    const widths = [3, ...acts.slice(1).map((_, i) => 4 + i), 2];
    const net = Mlp.create(widths, acts, r);
    const batch = 5;
    const x = Float64Array.from({ length: batch * 3 }, () => r() * 2 - 1);
    const coef = Float64Array.from({ length: batch * 2 }, () => r() * 2 - 1);
    const { grads, dInput } = net.backward(net.forward(x, batch), coef);
    const h = 1e-6;
    const check = (arr: Float64Array, analytic: Float64Array) => {
      for (let k = 0; k < arr.length; k++) {
        const keep = arr[k]!;
        arr[k] = keep + h;
        const up = lossOf(net, x, batch, coef);
        arr[k] = keep - h;
        const down = lossOf(net, x, batch, coef);
        arr[k] = keep;
        expect(analytic[k]!).toBeCloseTo((up - down) / (2 * h), 5);
      }
    };
    net.parameters().forEach((p, i) => check(p, grads[i]!));
    check(x, dInput);
  });

  it('round-trips through JSON at float32 precision, and rejects mismatched shapes', () => {
    const net = Mlp.create([2, 3, 1], ['relu', 'linear'], seededRng(1));
    const x = Float64Array.from([0.3, -0.7]);
    const back = Mlp.fromJSON(JSON.parse(JSON.stringify(net.toJSON())));
    expect(back.output(back.forward(x, 1))[0]).toBeCloseTo(net.output(net.forward(x, 1))[0]!, 5);
    const bad = net.toJSON();
    bad.layers[0]!.w.pop();
    expect(() => Mlp.fromJSON(bad)).toThrow(/do not match/);
    expect(() => net.forward(new Float64Array(3), 1)).toThrow(/expected 1 x 2/);
  });
});

describe('Adam', () => {
  it('fits a linear map by gradient descent on squared error', () => {
    const r = seededRng(7);
    const net = Mlp.create([2, 1], ['linear'], r);
    const adam = new Adam(net.parameters(), { lr: 0.05 });
    const xs = Float64Array.from({ length: 64 }, () => r() * 2 - 1);
    const target = (i: number) => 3 * xs[2 * i]! - 2 * xs[2 * i + 1]! + 0.5;
    for (let step = 0; step < 600; step++) {
      const pass = net.forward(xs, 32);
      const d = net.output(pass).map((y, i) => (2 * (y - target(i))) / 32);
      adam.step(net.backward(pass, d).grads);
    }
    const [w, b] = net.parameters();
    expect(w![0]).toBeCloseTo(3, 2);
    expect(w![1]).toBeCloseTo(-2, 2);
    expect(b![0]).toBeCloseTo(0.5, 2);
  });

  it('cosine schedule runs from base to min', () => {
    expect(cosineLr(1e-3, 0, 100)).toBeCloseTo(1e-3, 12);
    expect(cosineLr(1e-3, 50, 100)).toBeCloseTo(5e-4, 12);
    expect(cosineLr(1e-3, 100, 100, 1e-5)).toBeCloseTo(1e-5, 12);
  });
});

describe('weightedSampler', () => {
  it('draws indices in proportion to their weights, deterministically for a seed', () => {
    const draw = weightedSampler([1, 0, 3, 6], seededRng(11));
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 100_000; i++) counts[draw()]!++;
    expect(counts[1]).toBe(0);
    expect(counts[0]! / 1e5).toBeCloseTo(0.1, 1);
    expect(counts[2]! / 1e5).toBeCloseTo(0.3, 1);
    expect(counts[3]! / 1e5).toBeCloseTo(0.6, 1);
    const again = weightedSampler([1, 0, 3, 6], seededRng(11));
    const first = weightedSampler([1, 0, 3, 6], seededRng(11));
    expect(Array.from({ length: 20 }, again)).toEqual(Array.from({ length: 20 }, first));
    expect(() => weightedSampler([0, 0], seededRng(1))).toThrow(/positive weight/);
  });
});
