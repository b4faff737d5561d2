// A React-like single-page app, the render benchmarks' fixture: a tiny
// virtual DOM with components, state and effects, a loading skeleton,
// product data from a JSON API, and window.prerenderReady set 400 ms
// after the load event (as an app that waits for lazy widgets would).
// The page writes its own ready time (ms since navigation start) into
// <meta name="fixture-ready-ms">, so a benchmark can subtract it.
(function () {
  'use strict';
  var READY_AFTER_LOAD_MS = 400;

  // --- a minimal React: h(), function components, useState, useEffect ---
  function h(type, props) {
    var children = [];
    for (var i = 2; i < arguments.length; i++) flatten(arguments[i], children);
    return { type: type, props: props || {}, children: children };
  }
  function flatten(c, out) {
    if (c == null || c === false || c === true) return;
    if (Array.isArray(c)) { for (var i = 0; i < c.length; i++) flatten(c[i], out); return; }
    out.push(typeof c === 'object' ? c : { type: '#text', props: { value: String(c) }, children: [] });
  }

  var hooks = [], hookIndex = 0, effects = [], rootVNode = null, rootEl = null, scheduled = false;
  function useState(initial) {
    var i = hookIndex++;
    if (!(i in hooks)) hooks[i] = initial;
    return [hooks[i], function (v) { hooks[i] = v; schedule(); }];
  }
  function useEffect(fn, deps) {
    var i = hookIndex++;
    var old = hooks[i];
    if (!old || !deps || deps.some(function (d, k) { return d !== old[k]; })) {
      hooks[i] = deps || [];
      effects.push(fn);
    }
  }
  function schedule() {
    if (scheduled) return;
    scheduled = true;
    Promise.resolve().then(function () { scheduled = false; renderRoot(); });
  }

  // expand runs function components down to host elements.
  function expand(v) {
    if (typeof v.type === 'function') return expand(v.type(Object.assign({ children: v.children }, v.props)));
    if (v.type === '#text') return v;
    return { type: v.type, props: v.props, children: v.children.map(expand), key: v.props.key };
  }
  function create(v) {
    if (v.type === '#text') return document.createTextNode(v.props.value);
    var el = document.createElement(v.type);
    setProps(el, {}, v.props);
    v.children.forEach(function (c) { el.appendChild(create(c)); });
    return el;
  }
  function setProps(el, old, props) {
    Object.keys(old).forEach(function (k) { if (!(k in props) && k !== 'key') el.removeAttribute(k === 'className' ? 'class' : k); });
    Object.keys(props).forEach(function (k) {
      if (k === 'key' || old[k] === props[k]) return;
      if (k.slice(0, 2) === 'on') el[k.toLowerCase()] = props[k];
      else el.setAttribute(k === 'className' ? 'class' : k, props[k]);
    });
  }
  // patch reconciles el (rendered from old) with v, children keyed or by index.
  function patch(parent, el, old, v) {
    if (!old) { var n = create(v); parent.appendChild(n); return n; }
    if (old.type !== v.type) { var r = create(v); parent.replaceChild(r, el); return r; }
    if (v.type === '#text') { if (old.props.value !== v.props.value) el.nodeValue = v.props.value; return el; }
    setProps(el, old.props, v.props);
    var kids = Array.prototype.slice.call(el.childNodes);
    var byKey = {};
    old.children.forEach(function (c, i) { if (c.key != null) byKey[c.key] = { v: c, el: kids[i] }; });
    var used = [];
    v.children.forEach(function (c, i) {
      var match = c.key != null ? byKey[c.key] : (old.children[i] && old.children[i].key == null ? { v: old.children[i], el: kids[i] } : null);
      var node;
      if (match) { node = patch(el, match.el, match.v, c); used.push(match.el); }
      else node = create(c);
      if (el.childNodes[i] !== node) el.insertBefore(node, el.childNodes[i] || null);
    });
    Array.prototype.slice.call(el.childNodes, v.children.length).forEach(function (n) { el.removeChild(n); });
    return el;
  }
  function renderRoot() {
    hookIndex = 0;
    var next = expand(h(App));
    if (rootVNode) patch(rootEl, rootEl.firstChild, rootVNode, next);
    else rootEl.appendChild(create(next));
    rootVNode = next;
    var run = effects; effects = [];
    run.forEach(function (fn) { fn(); });
  }

  // --- the app ---
  function Header(props) {
    return h('header', null,
      h('img', { src: '/static/logo.png', alt: 'Lamp shop' }),
      h('h1', null, props.title),
      h('nav', null, ['Lamps', 'Shades', 'Bulbs', 'Sale'].map(function (n) {
        return h('a', { key: n, href: '/c/' + n.toLowerCase() }, n);
      })));
  }
  function Card(props) {
    var p = props.item;
    return h('article', { className: 'card', 'data-id': p.id },
      h('h2', null, h('a', { href: '/p/' + p.id }, p.name)),
      h('p', { className: 'price' }, '$' + p.price.toFixed(2)),
      h('p', null, 'Rated ' + p.rating + ' of 5'),
      h('ul', null, p.features.map(function (f, i) { return h('li', { key: i }, f); })),
      h('p', null, p.description));
  }
  function App() {
    var st = useState(null), data = st[0], setData = st[1];
    useEffect(function () {
      fetch('/api/products.json' + location.search)
        .then(function (r) { return r.json(); })
        .then(setData);
    }, []);
    var ld = data && { '@context': 'https://schema.org', '@type': 'ItemList', numberOfItems: data.items.length };
    return h('div', { className: 'app' },
      h(Header, { title: data ? data.category : 'Loading' }),
      h('main', null, data
        ? data.items.map(function (p) { return h(Card, { key: p.id, item: p }); })
        : [1, 2, 3, 4, 5, 6].map(function (i) { return h('div', { key: 's' + i, className: 'skeleton' }); })),
      h('footer', null, ld ? JSON.stringify(ld) : '', ' © Lamp shop'));
  }

  rootEl = document.getElementById('root');
  renderRoot();
  window.addEventListener('load', function () {
    setTimeout(function () {
      var m = document.createElement('meta');
      m.name = 'fixture-ready-ms';
      m.content = String(Math.round(performance.now()));
      document.head.appendChild(m);
      window.prerenderReady = true;
    }, READY_AFTER_LOAD_MS);
  });
})();
