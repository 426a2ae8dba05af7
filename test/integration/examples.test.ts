/**
 * The deployment examples, checked against iamwatch itself: its settings, exit codes, watchers'
 * abort graces, its CLI and a running instance.
 *
 * systemd (examples/systemd/iamwatch.service). `systemd-analyze verify` needs neither root nor
 * systemd as PID 1, but it rejects a unit whose ExecStart binary is missing, and
 * /usr/local/bin/iamwatch is not installed here. So the unit is verified exactly as written, in a
 * scratch root (`--root`): etc/systemd/system/ holds a verbatim copy, usr/lib/systemd/system/ a
 * copy of this machine's units (for the default dependencies such as sysinit.target), and
 * usr/local/bin/iamwatch is a two-line sh script that execs `node bin/iamwatch.js` of this checkout.
 * verify exits 0 after warnings ("Unknown key ..., ignoring"), so it must also print nothing.
 * `systemd-analyze security --offline` scores the hardening in the same root. These two are skipped
 * where systemd-analyze is not installed (Debian: apt-get install systemd).
 *
 * Docker (examples/docker/Dockerfile). No Docker engine runs here: the Dockerfile and its
 * Dockerfile.dockerignore are read with test/helpers/dockerfile.ts and checked for what a build
 * and `docker run` rely on: pinned Node major, a numeric non-root user, exec-form entrypoint
 * reaching bin/iamwatch.js, context files that exist and are not ignored, ports that agree.
 *
 * Kubernetes (examples/kubernetes/*.yaml). Read as YAML 1.1, as Kubernetes reads them (`0444` is
 * octal), checked against the API shapes (test/helpers/k8s-shapes.ts) and against each other, and
 * the ConfigMap's jobs file goes through the real `iamwatch validate`.
 *
 * Finally one real `iamwatch run`, started with the arguments all three use, answers the Docker
 * HEALTHCHECK command and the Kubernetes probe paths, and exits 0 on SIGTERM.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { EXIT, exitCodeFor } from '../../src/cli/exit-codes.js';
import type { JobsFile } from '../../src/jobsfile/job.js';
import { parseJobsFile } from '../../src/jobsfile/parse.js';
import { checkSetting, isSetting, SETTINGS } from '../../src/jobsfile/settings.js';
import { parseDuration } from '../../src/schedule/duration.js';
import { DEFAULT_ABORT_GRACE_MS } from '../../src/scheduler/pipeline.js';
import { exec as execWatcher } from '../../src/watchers/exec.js';
import { WatcherRegistry } from '../../src/watchers/registry.js';
import { BIN, ROOT, runCli, startCli } from '../helpers/cli.js';
import { dockerignore, envPairs, healthcheckCommand, parseDockerfile, shellWords, stages, type Instruction } from '../helpers/dockerfile.js';
import { checkShape, SHAPES } from '../helpers/k8s-shapes.js';
import { freePort, sleep } from '../helpers/redis.js';
import { environment, parseUnit, timespanMs, value, values } from '../helpers/unit-file.js';

const EXAMPLES = path.join(ROOT, 'examples');
const read = (rel: string): string => readFileSync(path.join(EXAMPLES, rel), 'utf8');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'iamwatch-examples-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** Beyond the abort grace: releasing abandoned runs' locks (at most 3 s in run.ts), closing Redis and the database. */
const RELEASE_SLACK_MS = 5_000;

// ---- what iamwatch reads ---------------------------------------------------------------------

const SOURCE = readdirSync(path.join(ROOT, 'src'), { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.ts'))
  .map((f) => readFileSync(path.join(ROOT, 'src', f), 'utf8'))
  .join('\n');

/** A setting (src/jobsfile/settings.ts), or a variable the source reads from the environment. */
function readByIamwatch(name: string): boolean {
  return isSetting(name) || new RegExp(`env\\.${name}\\b|env\\[['"]${name}['"]\\]`).test(SOURCE);
}

function assertIamwatchEnv(env: Iterable<[string, string]>, where: string): void {
  for (const [name, text] of env) {
    assert.ok(readByIamwatch(name), `${where}: ${name} is not an iamwatch setting (${Object.keys(SETTINGS).join(', ')}) nor read by iamwatch`);
    if (isSetting(name)) assert.equal(checkSetting(name, text), null, `${where}: ${name}=${text}`);
  }
}

const portOf = (addr: string): number => Number(/:(\d+)$/.exec(addr)?.[1] ?? NaN);

/** The longest time an aborted run of any job of the file may take to stop (exec: kill-grace + 1 s). */
function longestAbortGraceMs(jf: JobsFile, registry: WatcherRegistry): number {
  return Math.max(DEFAULT_ABORT_GRACE_MS, ...jf.jobs.map((j) => registry.get(j.watcher)?.abortGraceMs?.(j.options) ?? DEFAULT_ABORT_GRACE_MS));
}

// ---- the three examples, read once -------------------------------------------------------------

const unit = parseUnit(read('systemd/iamwatch.service'));
const unitEnv = environment(unit);
const execStart = shellWords(value(unit, 'Service', 'ExecStart')!.replace(/^[-@:+!]+/, ''));
const execReload = value(unit, 'Service', 'ExecReload');

const dockerfile = parseDockerfile(read('docker/Dockerfile'));
const dockerStages = stages(dockerfile);
const finalStage = dockerStages.at(-1)!;
const lastOf = (name: string, ins: Instruction[] = finalStage.instructions): Instruction | undefined => ins.filter((i) => i.name === name).at(-1);
const entrypoint = lastOf('ENTRYPOINT')?.exec ?? [];
const cmd = lastOf('CMD')?.exec ?? [];
const imageEnv = new Map(finalStage.instructions.filter((i) => i.name === 'ENV').flatMap(envPairs));

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}
interface Probe {
  httpGet?: { path?: string; port: number | string };
}
interface Container {
  name: string;
  args?: string[];
  env?: Array<{ name: string; value?: string; valueFrom?: { secretKeyRef?: { name?: string; key: string; optional?: boolean } } }>;
  ports?: Array<{ name?: string; containerPort: number }>;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: { allowPrivilegeEscalation?: boolean; readOnlyRootFilesystem?: boolean; runAsUser?: number; capabilities?: { drop?: string[] } };
  volumeMounts?: Array<{ name: string; mountPath: string; subPath?: string; readOnly?: boolean }>;
}
interface Volume {
  name: string;
  configMap?: { name: string; defaultMode?: number; items?: Array<{ key: string; path: string; mode?: number }> };
  emptyDir?: Record<string, unknown>;
}
interface PodSpec {
  containers: Container[];
  volumes?: Volume[];
  terminationGracePeriodSeconds?: number;
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
  topologySpreadConstraints?: Array<{ labelSelector?: { matchLabels?: Record<string, string> } }>;
}
interface Deployment extends K8sObject {
  spec: { replicas?: number; selector: { matchLabels?: Record<string, string> }; template: { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec: PodSpec } };
}

const manifests: Array<{ file: string; object: K8sObject }> = readdirSync(path.join(EXAMPLES, 'kubernetes'))
  .filter((f) => f.endsWith('.yaml'))
  .sort()
  .flatMap((file) =>
    parseAllDocuments(read(`kubernetes/${file}`), { version: '1.1' }).map((doc) => {
      assert.deepEqual(doc.errors.map(String), [], file);
      return { file, object: doc.toJS() as K8sObject };
    }),
  );
const ofKind = <T extends K8sObject>(kind: string): T[] => manifests.filter((m) => m.object.kind === kind).map((m) => m.object as T);
const deployment = ofKind<Deployment>('Deployment')[0]!;
const pod = deployment.spec.template.spec;
const container = pod.containers.find((c) => c.name === 'iamwatch') ?? pod.containers[0]!;
const k8sArgv = container.args ?? cmd;

function secretValue(ref: { name?: string; key: string }): string | undefined {
  const secret = ofKind<K8sObject & { stringData?: Record<string, string>; data?: Record<string, string> }>('Secret').find((s) => s.metadata.name === ref.name);
  return secret?.stringData?.[ref.key] ?? (secret?.data?.[ref.key] !== undefined ? Buffer.from(secret.data[ref.key]!, 'base64').toString() : undefined);
}

/** The container's environment with the Secret's values filled in. */
const podEnv = new Map((container.env ?? []).map((e) => [e.name, e.value ?? (e.valueFrom?.secretKeyRef ? secretValue(e.valueFrom.secretKeyRef) : undefined) ?? '']));

function configFile(): { key: string; text: string; jobsFile: JobsFile; registry: WatcherRegistry } {
  const cPath = k8sArgv[k8sArgv.indexOf('-c') + 1]!;
  const mount = container.volumeMounts?.find((m) => m.mountPath === cPath || cPath.startsWith(`${m.mountPath.replace(/\/$/, '')}/`));
  assert.ok(mount, `no volumeMount holds the jobs file ${cPath}`);
  const volume = pod.volumes?.find((v) => v.name === mount.name);
  assert.ok(volume?.configMap, `the volume ${mount.name} that holds ${cPath} is not a ConfigMap`);
  // The file's path inside the volume, then the ConfigMap key projected there.
  const inVolume = mount.mountPath === cPath ? mount.subPath : path.posix.join(mount.subPath ?? '', path.posix.relative(mount.mountPath, cPath));
  assert.ok(inVolume, `${cPath} is the mount point of the whole volume ${mount.name}, not a file in it`);
  const items = volume.configMap.items;
  const key = items ? items.find((i) => i.path === inVolume)?.key : inVolume;
  assert.ok(key, `no item of the ConfigMap volume ${mount.name} is projected at ${inVolume}`);
  const cm = ofKind<K8sObject & { data?: Record<string, string> }>('ConfigMap').find((c) => c.metadata.name === volume.configMap!.name);
  assert.ok(cm, `no ConfigMap named ${volume.configMap.name}`);
  const text = cm.data?.[key];
  assert.ok(text, `the ConfigMap ${cm.metadata.name} has no key ${key}`);
  const registry = new WatcherRegistry();
  const jobsFile = parseJobsFile({ text, file: `configmap ${cm.metadata.name}:${key}`, env: Object.fromEntries(podEnv), watchers: registry, now: Date.now() });
  return { key, text, jobsFile, registry };
}

/** What follows bin/iamwatch.js in the container's argv: the iamwatch command and its flags. */
function iamwatchArgs(argv: string[]): string[] {
  const i = argv.findIndex((a) => /(^|\/)bin\/iamwatch\.js$|(^|\/)iamwatch$/.test(a));
  return i < 0 ? [] : argv.slice(i + 1);
}

function run(file: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { env, timeout: 20_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      resolve({ code, out: `${stdout}${stderr}` });
    });
  });
}

// ---- systemd ----------------------------------------------------------------------------------

const SYSTEMD_ANALYZE = ['/usr/bin/systemd-analyze', '/bin/systemd-analyze'].find((p) => existsSync(p));
const noSystemd = SYSTEMD_ANALYZE ? false : 'systemd-analyze is not installed (apt-get install systemd)';

/** A scratch root holding the unit as written, the system's units, and an iamwatch that runs this checkout. */
function systemdRoot(): { root: string; unitPath: string } {
  const root = mkdtempSync(path.join(tmp, 'root-'));
  const units = ['/usr/lib/systemd/system', '/lib/systemd/system'].find((d) => existsSync(d))!;
  cpSync(units, path.join(root, 'usr/lib/systemd/system'), { recursive: true, verbatimSymlinks: true });
  const unitPath = path.join(root, 'etc/systemd/system/iamwatch.service');
  mkdirSync(path.dirname(unitPath), { recursive: true });
  cpSync(path.join(EXAMPLES, 'systemd/iamwatch.service'), unitPath);
  const bin = path.join(root, execStart[0]!);
  mkdirSync(path.dirname(bin), { recursive: true });
  writeFileSync(bin, `#!/bin/sh\nexec '${process.execPath}' '${BIN}' "$@"\n`);
  chmodSync(bin, 0o755);
  // The reload command as this machine has it.
  if (execReload) {
    const reload = shellWords(execReload.replace(/^[-@:+!]+/, ''))[0]!;
    mkdirSync(path.join(root, path.dirname(reload)), { recursive: true });
    cpSync(reload, path.join(root, reload));
  }
  return { root, unitPath };
}

describe('examples/systemd', () => {
  test('systemd-analyze verify accepts the unit as written, without a warning', { skip: noSystemd }, async () => {
    const { root, unitPath } = systemdRoot();
    const r = await run(SYSTEMD_ANALYZE!, ['verify', '--man=no', '--generators=no', `--root=${root}`, unitPath]);
    assert.equal(r.code, 0, r.out);
    assert.equal(r.out.trim(), '', 'systemd-analyze verify printed warnings');
  });

  test('systemd-analyze security rates the hardening 2.0 or better (0 is best, 10 worst)', { skip: noSystemd }, async () => {
    const { root, unitPath } = systemdRoot();
    const r = await run(SYSTEMD_ANALYZE!, ['security', '--offline=yes', `--root=${root}`, '--threshold=20', '--no-pager', unitPath]);
    assert.equal(r.code, 0, /Overall exposure level.*$/m.exec(r.out)?.[0] ?? r.out);
  });

  test('stop timeout, restart policy, user and environment agree with iamwatch', () => {
    assert.equal(value(unit, 'Service', 'Type'), 'simple');
    const user = value(unit, 'Service', 'User');
    assert.ok(user && user !== 'root' && user !== '0', `User=${user}: run as a dedicated user`);
    assert.ok(values(unit, 'Service', 'EnvironmentFile').some((f) => path.isAbsolute(f)), 'EnvironmentFile= holds REDIS_URL and DATABASE_URL');
    assert.ok(path.isAbsolute(execStart[0]!), 'ExecStart needs an absolute path');
    assert.equal(iamwatchArgs(execStart)[0], 'run');
    // `systemctl reload` is SIGHUP to iamwatch alone, which reloads the jobs file (and never stops it).
    assert.match(execReload ?? '', /^\/\S*kill -HUP \$MAINPID$/, 'ExecReload sends SIGHUP to the main process');

    // The drain must end before systemd SIGKILLs: SHUTDOWN_TIMEOUT + exec's abort grace + releases.
    assertIamwatchEnv(unitEnv, 'iamwatch.service Environment=');
    const shutdownMs = unitEnv.has('SHUTDOWN_TIMEOUT') ? parseDuration(unitEnv.get('SHUTDOWN_TIMEOUT')!) : SETTINGS.SHUTDOWN_TIMEOUT.option.default;
    const graceMs = execWatcher.abortGraceMs!({ 'kill-grace': execWatcher.options['kill-grace']!.default });
    const stopMs = timespanMs(value(unit, 'Service', 'TimeoutStopSec') ?? '90s');
    assert.ok(stopMs > shutdownMs + graceMs + RELEASE_SLACK_MS, `TimeoutStopSec ${stopMs} ms must exceed SHUTDOWN_TIMEOUT ${shutdownMs} + abort grace ${graceMs} + ${RELEASE_SLACK_MS} ms`);
    assert.equal(value(unit, 'Service', 'KillSignal'), 'SIGTERM');
    assert.equal(value(unit, 'Service', 'KillMode'), 'mixed', 'only iamwatch gets SIGTERM; it stops exec commands itself after the drain');

    // Bad config and usage errors are not restarted; unreachable Redis/database and bugs are.
    assert.equal(value(unit, 'Service', 'Restart'), 'on-failure');
    const prevented = new Set(values(unit, 'Service', 'RestartPreventExitStatus').flatMap((v) => v.split(/\s+/)).filter(Boolean).map(Number));
    assert.deepEqual([...prevented].sort(), [exitCodeFor('INVALID_INPUT'), exitCodeFor('USAGE')].sort());
    for (const code of [EXIT.UNAVAILABLE, EXIT.INTERNAL]) assert.ok(!prevented.has(code), `exit ${code} should be restarted`);

    const stateDir = value(unit, 'Service', 'StateDirectory');
    assert.ok(stateDir, 'StateDirectory= makes /var/lib/NAME writable under ProtectSystem=strict');
    assert.equal(unitEnv.get('IAMWATCH_STATE_DIR'), `/var/lib/${stateDir}`);
    assert.equal(value(unit, 'Service', 'ProtectSystem'), 'strict');
    assert.equal(value(unit, 'Service', 'NoNewPrivileges'), 'yes');
    assert.notEqual(value(unit, 'Service', 'MemoryDenyWriteExecute'), 'yes', "V8's JIT needs writable executable memory");
  });
});

// ---- Docker -----------------------------------------------------------------------------------

describe('examples/docker', () => {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } };
  const nodeMajor = Number(/(\d+)/.exec(pkg.engines.node)?.[1]);

  test('every stage is FROM node:<the major of package.json engines>, the last one runs as a numeric non-root user', () => {
    assert.ok(dockerStages.length >= 2, 'multi-stage: build, then a runtime image without compilers and dev dependencies');
    for (const s of dockerStages) assert.match(s.image, new RegExp(`^node:${nodeMajor}(\\.\\d+)*(-[a-z0-9.-]+)?(@sha256:[0-9a-f]{64})?$`), `FROM ${s.image}`);
    const user = lastOf('USER')?.args ?? '';
    assert.match(user, /^\d+(:\d+)?$/, `USER ${user}: numeric, so Kubernetes' runAsNonRoot can check it`);
    assert.notEqual(Number(user.split(':')[0]), 0, 'USER must not be root');
    assert.equal(lastOf('STOPSIGNAL')?.args, 'SIGTERM');
  });

  test('ENTRYPOINT and CMD are exec form and run `iamwatch run` from a file the image holds', () => {
    assert.ok(lastOf('ENTRYPOINT')?.exec && lastOf('CMD')?.exec, 'exec (JSON) form: a shell form puts /bin/sh at PID 1 and SIGTERM never reaches iamwatch');
    const argv = [...entrypoint, ...cmd];
    assert.equal(iamwatchArgs(argv)[0], 'run', `the container runs ${argv.join(' ')}`);
    const script = argv.find((a) => a.endsWith('bin/iamwatch.js'));
    assert.ok(script && path.posix.isAbsolute(script), 'the entrypoint names bin/iamwatch.js by its absolute path');

    // Follow the script back through the runtime stage's COPY instructions into the repository.
    let workdir = '/';
    let source: string | undefined;
    let distFrom: string | undefined;
    for (const ins of finalStage.instructions) {
      if (ins.name === 'WORKDIR') workdir = path.posix.resolve(workdir, ins.args);
      if (ins.name !== 'COPY') continue;
      const words = ins.exec ?? shellWords(ins.args);
      const dest = path.posix.resolve(workdir, words.at(-1)!);
      for (const src of words.slice(0, -1)) {
        if (ins.flags.from === undefined && script.startsWith(`${dest}/`)) source = path.join(src, script.slice(dest.length + 1));
        if (ins.flags.from !== undefined && dest === path.posix.resolve(path.posix.dirname(script), '../dist')) distFrom = ins.flags.from;
      }
    }
    assert.ok(source && existsSync(path.join(ROOT, source)), `${script} is not copied from a file of the repository`);
    assert.match(readFileSync(path.join(ROOT, source), 'utf8'), /\.\.\/dist\/cli\/main\.js/);
    // bin/iamwatch.js imports ../dist: compiled in a stage that ran `npm ci`, then `npm run build`.
    const build = dockerStages.find((s) => s.name === distFrom);
    assert.ok(build, `dist/ next to ${script} comes from no build stage`);
    const runs = build.instructions.filter((i) => i.name === 'RUN').map((i) => i.args);
    const ci = runs.findIndex((r) => /\bnpm ci\b/.test(r));
    const compile = runs.findIndex((r) => /\bnpm run build\b/.test(r));
    assert.ok(ci >= 0 && compile > ci, 'the build stage runs npm ci, then npm run build');
    const buildEnv = new Map(build.instructions.filter((i) => i.name === 'ENV').flatMap(envPairs));
    assert.ok(buildEnv.get('npm_config_nodedir'), 'better-sqlite3 builds from source against npm_config_nodedir');
  });

  test('every file COPY takes from the build context exists and is not excluded by Dockerfile.dockerignore', () => {
    const ignored = dockerignore(read('docker/Dockerfile.dockerignore'));
    const names = new Set<string>();
    for (const s of dockerStages) {
      for (const ins of s.instructions.filter((i) => i.name === 'COPY' || i.name === 'ADD')) {
        const words = ins.exec ?? shellWords(ins.args);
        if (ins.flags.from !== undefined) {
          assert.ok(names.has(ins.flags.from), `line ${ins.line}: COPY --from=${ins.flags.from} names no earlier stage`);
          continue;
        }
        for (const src of words.slice(0, -1)) {
          assert.ok(existsSync(path.join(ROOT, src)), `line ${ins.line}: COPY ${src}: no such file in the repository`);
          assert.ok(!ignored(src), `line ${ins.line}: COPY ${src} is excluded by Dockerfile.dockerignore`);
          assert.ok(!ignored(`${src}/cli/main.ts`) || !existsSync(path.join(ROOT, src, 'cli/main.ts')), `${src}/ is excluded in part`);
        }
      }
      if (s.name) names.add(s.name);
    }
    for (const p of ['.git/config', 'node_modules/yaml/package.json', 'dist/cli/main.js', '.iamwatch/watchers.conf.sqlite', 'iamwatch.sqlite', 'watchers.conf', 'test/integration/examples.test.ts']) {
      assert.ok(ignored(p), `${p} should stay out of the build context`);
    }
  });

  test('EXPOSE, METRICS_ADDR and the HEALTHCHECK agree on the port; the environment holds iamwatch settings', () => {
    assertIamwatchEnv(imageEnv, 'Dockerfile ENV');
    const port = portOf(imageEnv.get('METRICS_ADDR') ?? '');
    assert.ok(port > 0, 'METRICS_ADDR is set in the image');
    assert.match(imageEnv.get('METRICS_ADDR')!, /^(:|0\.0\.0\.0:|\[::\]:)\d+$/, 'METRICS_ADDR listens on every interface, or nothing outside the container reaches it');
    assert.deepEqual(finalStage.instructions.filter((i) => i.name === 'EXPOSE').flatMap((i) => shellWords(i.args)).map((p) => Number(p.replace(/\/tcp$/, ''))), [port]);
    const hc = healthcheckCommand(lastOf('HEALTHCHECK')!);
    assert.ok(hc?.exec, 'HEALTHCHECK CMD in exec form');
    assert.ok(hc.exec.some((a) => a.includes(`http://127.0.0.1:${port}/healthz`)), `HEALTHCHECK asks http://127.0.0.1:${port}/healthz`);
  });
});

// ---- Kubernetes -------------------------------------------------------------------------------

describe('examples/kubernetes', () => {
  test('every manifest is a known apiVersion/kind and fits its API shape', () => {
    assert.deepEqual(manifests.map((m) => m.object.kind).sort(), ['ConfigMap', 'Deployment', 'PodDisruptionBudget', 'Secret']);
    for (const { file, object } of manifests) {
      const shape = SHAPES[`${object.apiVersion} ${object.kind}`];
      assert.ok(shape, `${file}: ${object.apiVersion} ${object.kind} is not one the examples use`);
      assert.deepEqual(checkShape(object, shape), [], file);
    }
  });

  test('selectors match the pod labels; probes use the container port METRICS_ADDR listens on', () => {
    assert.equal(deployment.spec.replicas, 2);
    const labels = deployment.spec.template.metadata?.labels ?? {};
    const matches = (selector: Record<string, string> | undefined): boolean => !!selector && Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);
    assert.ok(matches(deployment.spec.selector.matchLabels), 'the Deployment selector matches its template labels');
    for (const pdb of ofKind<K8sObject & { spec: { selector: { matchLabels?: Record<string, string> } } }>('PodDisruptionBudget')) assert.ok(matches(pdb.spec.selector.matchLabels), `PodDisruptionBudget ${pdb.metadata.name} selects the pods`);
    for (const c of pod.topologySpreadConstraints ?? []) assert.ok(matches(c.labelSelector?.matchLabels), 'topologySpreadConstraints select the pods');

    const { jobsFile } = configFile();
    const metricsPort = portOf(jobsFile.settings.metricsAddr ?? '');
    assert.ok(metricsPort > 0, 'METRICS_ADDR is set (environment or jobs file)');
    assert.match(jobsFile.settings.metricsAddr!, /^(:|0\.0\.0\.0:|\[::\]:)\d+$/, 'METRICS_ADDR listens on every interface, or the kubelet cannot probe it');
    const portNumber = (p: number | string): number | undefined => (typeof p === 'number' ? p : container.ports?.find((cp) => cp.name === p)?.containerPort);
    assert.ok(container.ports?.some((p) => p.containerPort === metricsPort), `a containerPort ${metricsPort}`);
    const probes = { livenessProbe: '/livez', readinessProbe: '/healthz', startupProbe: '/livez' } as const;
    for (const [kind, wanted] of Object.entries(probes)) {
      const probe = container[kind as keyof typeof probes];
      if (!probe && kind === 'startupProbe') continue;
      assert.ok(probe?.httpGet, `${kind} is an httpGet probe`);
      assert.equal(probe.httpGet.path, wanted, kind);
      assert.equal(portNumber(probe.httpGet.port), metricsPort, `${kind} port ${probe.httpGet.port} is the METRICS_ADDR port`);
    }
    const annotations = deployment.spec.template.metadata?.annotations ?? {};
    if (annotations['prometheus.io/port']) assert.equal(Number(annotations['prometheus.io/port']), metricsPort);
  });

  test('the jobs file is the ConfigMap key the -c path names, mounted read-only and live (no subPath)', () => {
    assert.deepEqual(iamwatchArgs([...entrypoint, ...k8sArgv]).slice(0, 1), ['run']);
    const cPath = k8sArgv[k8sArgv.indexOf('-c') + 1]!;
    const mount = container.volumeMounts!.find((m) => m.mountPath === cPath || cPath.startsWith(`${m.mountPath}/`))!;
    assert.equal(mount.readOnly, true);
    const volume = pod.volumes!.find((v) => v.name === mount.name)!;
    const mode = volume.configMap!.items?.find((i) => i.key === configFile().key)?.mode ?? volume.configMap!.defaultMode ?? 0o644;
    assert.equal(mode & 0o022, 0, `mode 0${mode.toString(8)}: iamwatch refuses a jobs file others can write`);
    // A subPath mount never sees ConfigMap updates, so the pods could not reload the file.
    assert.equal(mount.subPath, undefined, 'mount the whole ConfigMap volume: a subPath mount does not follow updates');
  });

  test("the environment holds iamwatch settings only, the secrets come from the Secret, the Secret's values are valid", () => {
    assertIamwatchEnv(podEnv, 'container env');
    for (const name of ['REDIS_URL', 'DATABASE_URL']) {
      const ref = container.env?.find((e) => e.name === name)?.valueFrom?.secretKeyRef;
      assert.ok(ref, `${name} comes from a Secret`);
      assert.notEqual(ref.optional, true, `${name} is required: without REDIS_URL every replica would run every job`);
      assert.ok(secretValue(ref), `the Secret ${ref.name} has the key ${ref.key}`);
    }
    for (const secret of ofKind<K8sObject & { stringData?: Record<string, string> }>('Secret')) assertIamwatchEnv(Object.entries(secret.stringData ?? {}), `Secret ${secret.metadata.name}`);
  });

  test("the grace period outlasts the drain the ConfigMap's jobs file asks for", () => {
    const { jobsFile, registry } = configFile();
    assert.deepEqual(jobsFile.diagnostics.filter((d) => d.severity === 'error'), []);
    const needMs = jobsFile.settings.shutdownTimeoutMs + longestAbortGraceMs(jobsFile, registry) + RELEASE_SLACK_MS;
    const haveMs = (pod.terminationGracePeriodSeconds ?? 30) * 1000;
    assert.ok(haveMs > needMs, `terminationGracePeriodSeconds ${haveMs / 1000} s must exceed SHUTDOWN_TIMEOUT + the longest abort grace + ${RELEASE_SLACK_MS / 1000} s = ${needMs / 1000} s`);
  });

  test("the pod runs as the image's user on a read-only root, the state directory on an emptyDir, with resources", () => {
    assert.equal(pod.securityContext?.runAsNonRoot, true);
    const uid = container.securityContext?.runAsUser ?? pod.securityContext?.runAsUser;
    assert.equal(uid, Number((lastOf('USER')?.args ?? '').split(':')[0]), "runAsUser is the Dockerfile's USER");
    assert.equal(container.securityContext?.readOnlyRootFilesystem, true);
    assert.equal(container.securityContext?.allowPrivilegeEscalation, false);
    assert.deepEqual(container.securityContext?.capabilities?.drop, ['ALL']);
    const stateDir = podEnv.get('IAMWATCH_STATE_DIR') ?? imageEnv.get('IAMWATCH_STATE_DIR');
    const stateMount = container.volumeMounts?.find((m) => m.mountPath === stateDir);
    assert.ok(stateMount && pod.volumes?.find((v) => v.name === stateMount.name)?.emptyDir, `IAMWATCH_STATE_DIR ${stateDir} is an emptyDir mount`);
    assert.ok(container.resources?.requests?.memory && container.resources.limits?.memory, 'memory request and limit');
  });

  test("`iamwatch validate` accepts the ConfigMap's jobs file, with the pod's environment", async () => {
    const { text, jobsFile } = configFile();
    const dir = mkdtempSync(path.join(tmp, 'configmap-'));
    const file = path.join(dir, 'watchers.conf');
    writeFileSync(file, text);
    chmodSync(file, 0o644);
    const r = await runCli(['validate', '-c', file, '--json'], { env: Object.fromEntries(podEnv) });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const report = JSON.parse(r.stdout) as { valid: boolean; warnings: number; jobs: unknown[] };
    assert.equal(report.valid, true);
    assert.equal(report.warnings, 0, r.stdout);
    assert.equal(report.jobs.length, jobsFile.jobs.length);
    assert.ok(report.jobs.length > 0);
  });
});

// ---- one real instance ----------------------------------------------------------------------

describe('a real iamwatch run, started as the examples start it', () => {
  test('the same command line everywhere; it serves the HEALTHCHECK and probe paths and exits 0 on SIGTERM', async () => {
    const args = iamwatchArgs(execStart);
    assert.deepEqual(iamwatchArgs([...entrypoint, ...cmd]), args, 'Docker CMD and systemd ExecStart run the same command');
    // The pod adds --allow-writable-config for its ConfigMap volume's 0777 directory (see deployment.yaml).
    assert.deepEqual(iamwatchArgs([...entrypoint, ...k8sArgv]).filter((x) => x !== '--allow-writable-config'), args, 'the Kubernetes args and systemd ExecStart run the same command');

    const dir = mkdtempSync(path.join(tmp, 'run-'));
    const file = path.join(dir, 'watchers.conf');
    writeFileSync(file, '@every 1m rate exec name=idle command="true"\n');
    chmodSync(file, 0o644);
    const port = await freePort();
    const argv = args.map((a, i) => (args[i - 1] === '-c' ? file : a));
    const child = startCli(argv, { cwd: dir, env: { METRICS_ADDR: `127.0.0.1:${port}`, IAMWATCH_STATE_DIR: path.join(dir, 'state') }, timeoutMs: 20_000 });
    const url = (p: string): string => `http://127.0.0.1:${port}${p}`;
    const hc = healthcheckCommand(lastOf('HEALTHCHECK')!)!.exec!;
    const healthcheck = (): Promise<{ code: number; out: string }> => {
      const local = hc.map((a) => a.replaceAll(`127.0.0.1:${portOf(imageEnv.get('METRICS_ADDR')!)}`, `127.0.0.1:${port}`));
      assert.notDeepEqual(local, hc, 'the HEALTHCHECK names the METRICS_ADDR port');
      return run(local[0] === 'node' ? process.execPath : local[0]!, local.slice(1));
    };
    try {
      const deadline = Date.now() + 10_000;
      while ((await fetch(url('/healthz')).catch(() => null))?.status !== 200) {
        assert.ok(Date.now() < deadline, 'iamwatch run did not answer /healthz with 200 within 10 s');
        await sleep(100);
      }
      const ok = await healthcheck();
      assert.equal(ok.code, 0, `HEALTHCHECK on a healthy instance: ${ok.out}`);
      for (const kind of ['livenessProbe', 'readinessProbe', 'startupProbe'] as const) {
        const p = container[kind]?.httpGet?.path;
        if (!p) continue;
        const res = await fetch(url(p));
        assert.equal(res.status, 200, `${kind} ${p}: ${await res.text()}`);
      }
    } finally {
      child.child.kill('SIGTERM');
    }
    const r = await child.done;
    assert.equal(r.code, 0, `exit after SIGTERM (a clean stop for systemd and Kubernetes): ${r.stderr}`);
    assert.ok(r.stdout.trim().split('\n').every((l) => l.startsWith('{')), '--log-format json writes JSON lines');
    const down = await healthcheck();
    assert.equal(down.code, 1, 'HEALTHCHECK fails once iamwatch is gone');
  });
});
