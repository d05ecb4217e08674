/**
 * The script of index.html, as text (it runs in the browser, not in Node). It reads the page's
 * JSON data block, draws the Vega-Lite charts, and runs the demo: every exported model classifies
 * the sample images with onnxruntime-web, single-threaded and without a proxy worker.
 *
 * file:// pages cannot fetch() local files or import local ES modules in Chromium, so there the
 * wasm binary and onnxruntime's Emscripten glue come from a classic script (ort-wasm-embedded.js,
 * base64) and the glue is imported from a blob: URL through a small wrapper that gives Emscripten
 * a locateFile (the glue otherwise resolves the wasm's name against import.meta.url, which a blob:
 * URL cannot be a base for). Served over http(s) the page uses the plain files in assets/ort/.
 *
 * Results are exposed on window.__bnx for tests: { charts, demo, error?, results }. User strings
 * reach the DOM only through textContent.
 */
import { pixelValue, preprocessPixels } from '../data/index.js';

export const CLIENT_JS = String.raw`
(function () {
  'use strict';
  var state = { charts: 'pending', demo: 'pending', error: null, results: {} };
  window.__bnx = state;
  var data = JSON.parse(document.getElementById('bnx-data').textContent);

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function b64(s) {
    var bin = atob(s), u = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) u[i] = bin.charCodeAt(i);
    return u;
  }
  function loadScript(src) {
    return new Promise(function (resolve, reject) {
      var s = document.createElement('script');
      s.src = src;
      s.onload = resolve;
      s.onerror = function () { reject(new Error('could not load ' + src)); };
      document.head.appendChild(s);
    });
  }

  function drawCharts() {
    if (typeof vegaEmbed !== 'function') {
      state.charts = 'error';
      return Promise.resolve();
    }
    return Promise.all(data.charts.map(function (c) {
      return vegaEmbed('#' + c.id, c.spec, { renderer: 'svg', actions: false });
    })).then(function () { state.charts = 'done'; }, function (err) {
      state.charts = 'error';
      console.error('chart failed: ' + err);
    });
  }

  // ---- demo ----
  // the data stage's preprocessing, its source generated into the page (framework/data/pixels.ts)
  ${pixelValue.toString()}
  ${preprocessPixels.toString()}
  // One image's pixels (NHWC) to the model's input: NCHW models take the channel planes one by one.
  function toInput(pixels, pre, layout, demo) {
    var channels = demo.channels, x = preprocessPixels(pixels, pre, channels);
    if (layout !== 'nchw' || channels === 1) return x;
    var plane = demo.height * demo.width, out = new Float32Array(x.length);
    for (var p = 0; p < plane; p++) for (var c = 0; c < channels; c++) out[c * plane + p] = x[p * channels + c];
    return out;
  }
  function probabilities(v) {
    var sum = 0, allUnit = true;
    for (var i = 0; i < v.length; i++) { sum += v[i]; if (v[i] < 0 || v[i] > 1) allUnit = false; }
    if (allUnit && Math.abs(sum - 1) < 1e-3) return Array.prototype.slice.call(v);
    var max = -Infinity;
    for (i = 0; i < v.length; i++) max = Math.max(max, v[i]);
    var e = [], z = 0;
    for (i = 0; i < v.length; i++) { e.push(Math.exp(v[i] - max)); z += e[i]; }
    return e.map(function (x) { return x / z; });
  }
  function argmax(v) {
    var best = 0;
    for (var i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
    return best;
  }

  function configureOrt() {
    ort.env.wasm.numThreads = 1;
    ort.env.wasm.proxy = false;
    // One copy of the runtime for every way of opening the page: file:// can neither fetch() a .wasm
    // nor import() a module, so the wasm (gzipped, base64) and the glue come in one classic script.
    return loadScript(data.demo.ort_dir + 'ort-wasm-embedded.js').then(function () {
      return gunzip(b64(window.__bnxOrtWasmGz));
    }).then(function (wasm) {
      var glue = URL.createObjectURL(new Blob([window.__bnxOrtGlue], { type: 'text/javascript' }));
      var wrapper = 'import factory from ' + JSON.stringify(glue) + ';\n' +
        'export default function (config) { config.locateFile = config.locateFile || function (name) { return name; }; return factory(config); }\n';
      ort.env.wasm.wasmPaths = { mjs: URL.createObjectURL(new Blob([wrapper], { type: 'text/javascript' })) };
      ort.env.wasm.wasmBinary = wasm;
    });
  }
  function gunzip(bytes) {
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
    return new Response(stream).arrayBuffer().then(function (b) { return new Uint8Array(b); });
  }

  function className(i) {
    var names = data.demo.class_names;
    return i < names.length ? names[i] : 'class ' + i;
  }

  function runDemo() {
    var demo = data.demo, status = document.getElementById('demo-status');
    var plane = demo.height * demo.width, size = plane * demo.channels, pixels = b64(demo.images);
    var n = demo.labels.length, grid = document.getElementById('demo-grid');
    var cards = [];
    for (var k = 0; k < n; k++) {
      var card = el('figure', 'card');
      var canvas = el('canvas');
      canvas.width = demo.width; canvas.height = demo.height;
      var ctx = canvas.getContext('2d'), img = ctx.createImageData(demo.width, demo.height);
      for (var i = 0; i < plane; i++) {
        var at = k * size + i * demo.channels;
        // Grey digits and clothes are drawn dark on light, as they are usually shown; colour as it is.
        if (demo.channels === 1) img.data[4 * i] = img.data[4 * i + 1] = img.data[4 * i + 2] = 255 - pixels[at];
        else for (var c = 0; c < 3; c++) img.data[4 * i + c] = pixels[at + c];
        img.data[4 * i + 3] = 255;
      }
      ctx.putImageData(img, 0, 0);
      card.appendChild(canvas);
      var cap = el('figcaption');
      cap.appendChild(el('div', 'truth', 'true: ' + className(demo.labels[k])));
      var list = el('ul', 'preds');
      cap.appendChild(list);
      card.appendChild(cap);
      grid.appendChild(card);
      cards.push(list);
    }
    if (typeof ort === 'undefined') {
      state.demo = 'error';
      status.textContent = 'onnxruntime-web did not load, so there are no live predictions.';
      return Promise.resolve();
    }
    status.textContent = 'Loading onnxruntime-web…';
    var totals = document.getElementById('demo-totals');
    // The runs of each variant the reader can pick from; the first is shown first.
    var variants = [], byVariant = {}, shown = {};
    demo.models.forEach(function (m) {
      if (!byVariant[m.variant]) { byVariant[m.variant] = []; variants.push(m.variant); }
      byVariant[m.variant].push(m);
    });
    state.shown = shown;
    function describeShown() {
      var box = document.getElementById('demo-shown');
      if (!box) return;
      box.textContent = variants.map(function (v) { return shown[v] ? shown[v].run : v; }).join('; ');
    }
    function classify(m) {
      status.textContent = 'Classifying with ' + m.run + '…';
      shown[m.variant] = m;
      describeShown();
      // Predictions of the run shown before for this variant go away.
      Array.prototype.slice.call(grid.querySelectorAll('li')).forEach(function (li) { if (li.__variant === m.variant) li.remove(); });
      Array.prototype.slice.call(totals.children).forEach(function (li) { if (li.__variant === m.variant) li.remove(); });
      return ort.InferenceSession.create(b64(m.model), { executionProviders: ['wasm'] }).then(function (session) {
        var inputName = m.input_name || session.inputNames[0];
        var outputName = m.output_name || session.outputNames[0];
        var dims = m.layout === 'nchw' ? [1, demo.channels, demo.height, demo.width] : [1, size];
        var result = { run: m.run, logits: [], predictions: [], correct: 0 };
        state.results[m.variant] = result;
        var inner = Promise.resolve();
        for (var k = 0; k < n; k++) (function (k) {
          inner = inner.then(function () {
            var feeds = {};
            feeds[inputName] = new ort.Tensor('float32', toInput(pixels.subarray(k * size, (k + 1) * size), m.preprocessing, m.layout, demo), dims);
            return session.run(feeds).then(function (out) {
              var logits = Array.prototype.slice.call(out[outputName].data);
              var probs = probabilities(logits), pred = argmax(logits);
              result.logits.push(logits);
              result.predictions.push(pred);
              var ok = pred === demo.labels[k];
              if (ok) result.correct++;
              var li = el('li', ok ? 'ok' : 'bad');
              li.__variant = m.variant;
              li.appendChild(el('span', 'variant', m.variant + ': '));
              li.appendChild(document.createTextNode(className(pred) + ' (' + (100 * probs[pred]).toFixed(0) + '%)' + (ok ? ' ✓' : ' ✗')));
              cards[k].appendChild(li);
            });
          });
        })(k);
        return inner.then(function () {
          var total = el('li', null, m.run + ': ' + result.correct + ' of ' + n + ' correct');
          total.__variant = m.variant;
          totals.appendChild(total);
          return session.release && session.release();
        });
      });
    }
    var busy = Promise.resolve();
    function finished() {
      state.demo = 'done';
      status.textContent = 'Predicted in this browser with onnxruntime-web (wasm, one thread).';
    }
    function failed(err) {
      state.demo = 'error';
      state.error = String(err && err.message || err);
      status.textContent = 'The demo failed: ' + state.error;
      console.error('demo failed: ' + state.error);
    }
    var pick = document.getElementById('demo-pick');
    variants.forEach(function (v) {
      if (!pick || byVariant[v].length < 2) return;
      var label = el('label', null, v + ': ');
      var select = el('select');
      select.setAttribute('data-variant', v);
      byVariant[v].forEach(function (m, i) {
        var option = el('option', null, m.run);
        option.value = String(i);
        select.appendChild(option);
      });
      select.addEventListener('change', function () {
        state.demo = 'pending';
        busy = busy.then(function () { return classify(byVariant[v][Number(select.value)]); }).then(finished, failed);
      });
      label.appendChild(select);
      pick.appendChild(label);
    });
    return configureOrt().then(function () {
      variants.forEach(function (v) { busy = busy.then(function () { return classify(byVariant[v][0]); }); });
      return busy;
    }).then(finished, failed);
  }

  drawCharts().then(function () { return data.demo ? runDemo() : (state.demo = 'none'); });
})();
`;
