// The decoder program of playground/vae/export.py, run in JavaScript. Same operations in the same order as
// export.run_program (the numpy interpreter); tests/test_vae_decoder_js.py runs one program through both.
// A classic script (no imports/exports): the component prepends it to component.js, the tests load it alone.

/** Little-endian float32 array from base64 (the program's weight encoding). */
function vaeFloat32(b64) {
  const s = atob(b64), u = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) u[i] = s.charCodeAt(i);
  return new Float32Array(u.buffer);
}

/** Source index of each output row/column for nearest upsampling: PyTorch's floor(i * in/out) in float32. */
function vaeNearest(out, inp) {
  const scale = Math.fround(inp / out), ix = new Int32Array(out);
  for (let i = 0; i < out; i++) ix[i] = Math.min(Math.floor(Math.fround(i * scale)), inp - 1);
  return ix;
}

function vaeLinear(h, w, b, nOut, nIn) {
  const o = new Float32Array(nOut);
  for (let i = 0; i < nOut; i++) {
    let acc = b[i];
    const row = i * nIn;
    for (let j = 0; j < nIn; j++) acc += w[row + j] * h[j];
    o[i] = acc;
  }
  return o;
}

function vaeUpsample(h, [c, hh, ww], s) {
  const iy = vaeNearest(s, hh), ix = vaeNearest(s, ww), o = new Float32Array(c * s * s);
  for (let k = 0; k < c; k++)
    for (let y = 0; y < s; y++)
      for (let x = 0; x < s; x++) o[(k * s + y) * s + x] = h[(k * hh + iy[y]) * ww + ix[x]];
  return o;
}

/** 3x3 convolution, stride 1, zero padding 1; w is (out, in, 3, 3) row-major. */
function vaeConv3x3(h, [, hh, ww], w, b, nOut, nIn) {
  const o = new Float32Array(nOut * hh * ww);
  for (let co = 0; co < nOut; co++)
    for (let y = 0; y < hh; y++)
      for (let x = 0; x < ww; x++) {
        let acc = b[co];
        for (let ci = 0; ci < nIn; ci++)
          for (let dy = -1; dy <= 1; dy++) {
            const yy = y + dy;
            if (yy < 0 || yy >= hh) continue;
            for (let dx = -1; dx <= 1; dx++) {
              const xx = x + dx;
              if (xx < 0 || xx >= ww) continue;
              acc += w[((co * nIn + ci) * 3 + dy + 1) * 3 + dx + 1] * h[(ci * hh + yy) * ww + xx];
            }
          }
        o[(co * hh + y) * ww + x] = acc;
      }
  return o;
}

/** The program with its weights decoded once: {program, weights: name -> Float32Array}. */
function vaeLoadProgram(program) {
  const weights = {};
  for (const [k, v] of Object.entries(program.weights)) weights[k] = vaeFloat32(v);
  return { program, weights };
}

/** The decoded mean image of one code z (length program.latent) and class y, as a flat (C*H*W) Float32Array. */
function vaeDecode(loaded, z, y) {
  const { program: prog, weights: W } = loaded;
  let h = new Float32Array(prog.latent + prog.classes);
  h.set(z.slice(0, prog.latent));
  if (prog.classes) h[prog.latent + (y || 0)] = 1;
  let shape = [h.length];
  for (const op of prog.ops) {
    if (op.op === "linear") {
      h = vaeLinear(h, W[op.w], W[op.w + "b"], op.out, op.in);
      shape = [op.out];
    } else if (op.op === "silu") {
      for (let i = 0; i < h.length; i++) h[i] = h[i] / (1 + Math.exp(-h[i]));
    } else if (op.op === "sigmoid") {
      for (let i = 0; i < h.length; i++) h[i] = 1 / (1 + Math.exp(-h[i]));
    } else if (op.op === "reshape") {
      shape = op.shape.slice();
    } else if (op.op === "upsample") {
      h = vaeUpsample(h, shape, op.size);
      shape = [shape[0], op.size, op.size];
    } else if (op.op === "conv3x3") {
      h = vaeConv3x3(h, shape, W[op.w], W[op.w + "b"], op.out, op.in);
      shape = [op.out, shape[1], shape[2]];
    } else if (op.op === "channels") {
      h = h.slice(0, op.n * shape[1] * shape[2]);
      shape = [op.n, shape[1], shape[2]];
    } else {
      throw new Error("unknown decoder operation " + op.op);
    }
  }
  return h;
}
