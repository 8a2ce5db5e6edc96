// Runs the real Grimnir dashboard script (vendor/internal/web/static/js/app.js) against a served
// station and prints, one JSON line each, what its page shows whenever that changes.
//
//   node run.mjs --base http://127.0.0.1:PORT --token JWT --station UUID --mount UUID \
//       --modules DIR [--deaf]
//
// app.js is loaded by the real repository's own test harness (vendor/test/js/harness.mjs,
// loadPlayer): a node:vm sandbox with its fake DOM. This script then adds what that harness leaves
// out and the dashboard's start-up needs (docs/fidelity.md, the dashboard row): the page's address
// and WebSocket token on `window`, a real WebSocket (the npm `ws` package, found under --modules),
// a fetch that reaches the server, a body with `dashboard-layout`, the station selector, the header
// (#nowPlaying, whose children are recorded), the on-air badge (#onAirStatus) and a mount health
// badge ([data-health-mount]); the global player's container is absent, so the player stays idle.
// Then it fires DOMContentLoaded, as the browser would.
//
// Lines on stdout:
//   {"kind":"page","header":…,"on_air":{"class":…,"text":…},"mount":{"class":…,"text":…}}
//   {"kind":"socket","state":"open"|"closed","code":…}   {"kind":"message","type":…}
//   {"kind":"fetch","path":…,"status":…}
// --deaf: the socket's messages are counted but never reach app.js (the test's check that the page
// follows the station's events, not its 15 s poll). The script ends when its stdin closes.

import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';

import { loadPlayer, makeElement } from './vendor/test/js/harness.mjs';

const { values: args } = parseArgs({
    options: {
        base: { type: 'string' },
        token: { type: 'string' },
        station: { type: 'string' },
        mount: { type: 'string' },
        modules: { type: 'string' },
        deaf: { type: 'boolean', default: false },
    },
});
for (const name of ['base', 'token', 'station', 'mount', 'modules']) {
    if (!args[name]) throw new Error(`--${name} is required`);
}
const WS = createRequire(`${args.modules}/`)('ws');

const say = (line) => process.stdout.write(`${JSON.stringify(line)}\n`);
const textOf = (html) => String(html).replace(/<[^>]*>/g, '');

const { sandbox, document, window, dispose } = loadPlayer({ elements: { globalPlayer: null } });
sandbox.console = { ...sandbox.console, error: (...a) => process.stderr.write(`app.js: ${a.join(' ')}\n`) };

// Each property app.js writes on the watched elements reports the page once the current job ends.
let reportQueued = false;
let lastPage = '';
function changed() {
    if (reportQueued) return;
    reportQueued = true;
    queueMicrotask(() => {
        reportQueued = false;
        const page = JSON.stringify({
            kind: 'page',
            header: headerText(),
            on_air: { class: onAir.className, text: textOf(onAir.innerHTML) },
            mount: { class: mountBadge.className, text: mountBadge.textContent },
        });
        if (page !== lastPage) {
            lastPage = page;
            process.stdout.write(`${page}\n`);
        }
    });
}
function watch(element, names) {
    for (const name of names) {
        let value = element[name];
        Object.defineProperty(element, name, {
            get: () => value,
            set: (next) => { value = next; changed(); },
            enumerable: true,
        });
    }
}

// The harness's elements drop their children; the header's are what it shows, so keep them.
document.createElement = (tag) => {
    const element = makeElement();
    element.tagName = tag.toUpperCase();
    element.children = [];
    element.appendChild = (child) => { element.children.push(child); return child; };
    return element;
};
const deepText = (element) =>
    element.children?.length ? element.children.map(deepText).join('') : String(element.textContent ?? '');

const header = document.getElementById('nowPlaying');
header.children = [];
header.replaceChildren = (...children) => { header.children = children; changed(); };
Object.defineProperty(header, 'innerHTML', {
    get: () => header._html ?? '',
    set: (html) => { header._html = html; header.children = []; changed(); },
});
const headerText = () => (header.children.length ? deepText(header) : textOf(header.innerHTML));

const onAir = document.getElementById('onAirStatus');
onAir.className = 'badge bg-secondary';
onAir.innerHTML = '';
watch(onAir, ['className', 'innerHTML']);

const mountBadge = makeElement('mountHealth');
mountBadge.dataset.healthMount = args.mount;
mountBadge.className = 'badge bg-secondary';
mountBadge.textContent = 'Unknown';
watch(mountBadge, ['className', 'textContent']);
document.querySelectorAll = (selector) => (selector === '[data-health-mount]' ? [mountBadge] : []);

document.getElementById('stationSelector').value = args.station;
document.body.classList.add('dashboard-layout');

const base = new URL(args.base);
window.location = { protocol: base.protocol, host: base.host, hostname: base.hostname, href: `${base.origin}/` };
window.GRIMNIR_WS_TOKEN = args.token;

sandbox.fetch = async (resource, init) => {
    const url = new URL(resource, base);
    const response = await fetch(url, init);
    say({ kind: 'fetch', path: url.pathname + url.search, status: response.status });
    return response;
};

// What app.js sees of the socket is what a browser's WebSocket gives it: onopen, onmessage with
// the text in `data`, onclose with code and reason, onerror.
sandbox.WebSocket = class {
    constructor(url) {
        this.socket = new WS(url);
        this.socket.addEventListener('open', () => {
            say({ kind: 'socket', state: 'open' });
            this.onopen?.({ type: 'open' });
        });
        this.socket.addEventListener('message', ({ data }) => {
            say({ kind: 'message', type: JSON.parse(data).type });
            if (!args.deaf) this.onmessage?.({ type: 'message', data });
        });
        this.socket.addEventListener('close', ({ code, reason }) => {
            say({ kind: 'socket', state: 'closed', code });
            this.onclose?.({ type: 'close', code, reason });
        });
        this.socket.addEventListener('error', ({ message }) => this.onerror?.({ type: 'error', message }));
    }

    get readyState() { return this.socket.readyState; }
    send(data) { this.socket.send(data); }
    close(code, reason) { this.socket.close(code, reason); }
};

changed();
document.dispatchEvent('DOMContentLoaded');

process.stdin.resume();
process.stdin.on('end', () => {
    dispose();
    window.grimnirWS.ws?.socket.terminate();
    process.exit(0);
});
