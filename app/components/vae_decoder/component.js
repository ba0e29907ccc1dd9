// The VAE lab's live decoder (Components v2): whenever one of the page's latent sliders changes, runs the
// decoder program (interpreter.js, prepended to this file) on the slider values and draws the mean image on
// a canvas, before the value has even reached the server. data = {program, y, keys: slider widget keys}.

/** The sliders' values: each slider's own text (Streamlit's value, e.g. 0.03 from an encoded image), not the
 *  range input's value, which the browser snaps to the 0.05 step. */
function readSliders(keys) {
  return keys.map((k) => {
    const el = document.querySelector(".st-key-" + k + " input[type=range]");
    const v = el ? parseFloat(el.getAttribute("aria-valuetext") ?? el.value) : NaN;
    return Number.isFinite(v) ? v : 0;
  });
}

/** Paint a flat (C*H*W) image in [0, 1] (1 or 3 channels) into an ImageData, rounding like the server. */
function paint(img, x, channels) {
  const n = img.width * img.height;
  for (let p = 0; p < n; p++) {
    for (let c = 0; c < 3; c++)
      img.data[4 * p + c] = Math.floor(Math.min(1, Math.max(0, x[(channels === 3 ? c : 0) * n + p])) * 255 + 0.5);
    img.data[4 * p + 3] = 255;
  }
}

function mountRoot(parentElement) {
  let root = parentElement.querySelector(".vae-live");
  if (!root) {
    root = document.createElement("div");
    root.className = "vae-live";
    root.innerHTML = '<canvas class="vae-live-canvas"></canvas><div class="vae-live-caption"></div>';
    parentElement.appendChild(root);
  }
  return root;
}

export default function (component) {
  const { data, parentElement } = component;
  if (parentElement.__vaeLive) parentElement.__vaeLive.disconnect();
  const root = mountRoot(parentElement);
  const canvas = root.querySelector("canvas"), caption = root.querySelector(".vae-live-caption");
  const loaded = vaeLoadProgram(data.program), [C, H, W] = data.program.shape;
  canvas.width = W;
  canvas.height = H;
  const ctx = canvas.getContext("2d"), img = ctx.createImageData(W, H);
  let last = null;
  const draw = () => {
    const zs = readSliders(data.keys), key = zs.join(",");
    if (key === last) return;
    last = key;
    const z = new Float32Array(data.program.latent);   // dimensions without a slider stay at 0
    z.set(zs.slice(0, data.program.latent));
    paint(img, vaeDecode(loaded, z, data.y), C);
    ctx.putImageData(img, 0, 0);
    canvas.dataset.z = key;
    canvas.dataset.draws = String(Number(canvas.dataset.draws || 0) + 1);
    caption.textContent = "decoded mean image (in your browser), z = [" + zs.map((v) => v.toFixed(2)).join(", ") + "]";
  };
  draw();
  // A slider's value (keyboard, or a drag that moves aria-valuetext), or sliders redrawn by a rerun.
  const obs = new MutationObserver(draw);
  obs.observe(document.body, { subtree: true, childList: true, attributes: true,
                               attributeFilter: ["value", "aria-valuetext"] });
  parentElement.__vaeLive = obs;
  return () => { obs.disconnect(); parentElement.__vaeLive = null; };
}
