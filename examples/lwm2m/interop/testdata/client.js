// An LwM2M client on Telefonica's lwm2m-node-lib 1.4.0, holding the
// Firmware Update object /5/0, for examples/lwm2m's interop test.
//
//   node client.js HOST PORT ENDPOINT MODE
//
// MODE is "success" or "fail" (the update ends with Update Result 8).
// The client registers, and on a Write of /5/0/1 resets (empty URI) or
// downloads the package URI with CoAP Block2 GETs (node-coap, which
// lwm2m-node-lib uses), reporting State and Update Result through its
// Observe streams; Execute /5/0/2 updates. After the update it
// de-registers and exits. Every step is one JSON line on stdout.
'use strict';

const crypto = require('crypto');
const coap = require('coap');
const lwm2m = require('lwm2m-node-lib');

const [host, port, endpoint, mode] = process.argv.slice(2);
if (!host || !port || !endpoint || (mode !== 'success' && mode !== 'fail')) {
    console.error('usage: node client.js HOST PORT ENDPOINT success|fail');
    process.exit(2);
}

const client = lwm2m.client;
const say = (event, fields) => console.log(JSON.stringify(Object.assign({ event: event }, fields || {})));
const fail = (what, err) => { say('error', { what: what, error: String(err) }); process.exit(1); };

client.init({
    client: {
        lifetime: '60',
        version: '1.0',
        logLevel: 'FATAL',
        observe: { period: 3000 },
        ipProtocol: 'udp4',
        serverProtocol: 'udp4'
    }
});

let state = 0;
let result = 0;
let info = null;

// set reports the Update Result before the State, each on its own
// resource's Observe stream. Values are stored as strings: lwm2m-node-lib
// 1.4.0 answers a Read of a resource whose value is falsy (the number 0)
// with an empty body.
function set(newState, newResult, done) {
    const steps = [];
    if (newResult !== result) { steps.push(['5', String(newResult)]); }
    if (newState !== state) { steps.push(['3', String(newState)]); }
    state = newState;
    result = newResult;
    say('state', { state: state, result: result });
    (function next(i) {
        if (i === steps.length) { return done && done(); }
        client.registry.setResource('/5/0', steps[i][0], steps[i][1], (err) => {
            if (err) { return fail('setResource', err); }
            next(i + 1);
        });
    })(0);
}

function download(uri) {
    const url = new URL(uri);
    const req = coap.request({ hostname: url.hostname, port: Number(url.port), pathname: url.pathname, method: 'GET' });
    req.on('response', (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
            const image = Buffer.concat(chunks);
            if (res.code !== '2.05') {
                say('download', { code: res.code });
                return set(0, 7);
            }
            say('download', { code: res.code, bytes: image.length, sha256: crypto.createHash('sha256').update(image).digest('hex') });
            setTimeout(() => set(2, 0), 100);
        });
    });
    req.on('error', (err) => { say('download', { error: String(err) }); set(0, 4); });
    req.end();
}

function onWrite(objectType, objectId, resourceId, value, callback) {
    say('write', { path: '/' + objectType + '/' + objectId + '/' + resourceId, value: String(value) });
    callback(null);
    if (String(objectType) !== '5' || String(resourceId) !== '1') { return; }
    if (String(value) === '') {
        return set(0, 0);
    }
    set(1, 0, () => download(String(value)));
}

function onExecute(objectType, objectId, resourceId, args, callback) {
    say('execute', { path: '/' + objectType + '/' + objectId + '/' + resourceId, state: state });
    callback(null);
    if (String(objectType) !== '5' || String(resourceId) !== '2' || state !== 2) { return; }
    set(3, 0, () => setTimeout(() => {
        if (mode === 'success') {
            set(0, 1);
        } else {
            set(0, 8);
        }
        setTimeout(() => client.unregister(info, (err) => {
            say('deregistered', { error: err ? String(err) : undefined });
            process.exit(0);
        }), 1500);
    }, 300));
}

client.registry.create('/5/0', (err) => {
    if (err) { return fail('create', err); }
    client.registry.setResource('/5/0', '1', '', () =>
        client.registry.setResource('/5/0', '3', '0', () =>
            client.registry.setResource('/5/0', '5', '0', () =>
                client.register(host, Number(port), '', endpoint, (err, deviceInfo) => {
                    if (err) { return fail('register', err); }
                    info = deviceInfo;
                    client.setHandler(deviceInfo.serverInfo, 'write', onWrite);
                    client.setHandler(deviceInfo.serverInfo, 'execute', onExecute);
                    say('registered', { location: deviceInfo.location, port: deviceInfo.localPort });
                }))));
});

setTimeout(() => fail('timeout', 'no update within 60 s'), 60000).unref();
