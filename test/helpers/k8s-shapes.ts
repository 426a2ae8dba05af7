/**
 * The shapes of the Kubernetes objects the examples use, from the Kubernetes API reference
 * (apps/v1 Deployment, v1 ConfigMap and Secret, policy/v1 PodDisruptionBudget), and a checker
 * that reports every field that is missing, of the wrong type, or not in the API: a misspelt
 * `readinesProbe` is otherwise dropped without a word by older clients. Only the fields of the
 * objects the examples reach are listed; an object listed as 'object' is not looked into.
 */

/** A field's type; a key ending in `!` is required. */
export type Shape = 'string' | 'integer' | 'boolean' | 'int-or-string' | 'object' | `map:${'string' | 'quantity'}` | Shape[] | { [key: string]: Shape };

const labelSelector: Shape = { matchLabels: 'map:string', matchExpressions: 'object' };

const objectMeta: Shape = {
  'name!': 'string',
  namespace: 'string',
  labels: 'map:string',
  annotations: 'map:string',
};

/** A pod template's metadata: the Deployment names its pods. */
const templateMeta: Shape = { labels: 'map:string', annotations: 'map:string' };

const probe: Shape = {
  httpGet: { 'port!': 'int-or-string', path: 'string', host: 'string', scheme: 'string', httpHeaders: 'object' },
  tcpSocket: { 'port!': 'int-or-string', host: 'string' },
  exec: { command: ['string'] },
  grpc: { 'port!': 'integer', service: 'string' },
  initialDelaySeconds: 'integer',
  timeoutSeconds: 'integer',
  periodSeconds: 'integer',
  successThreshold: 'integer',
  failureThreshold: 'integer',
  terminationGracePeriodSeconds: 'integer',
};

const keyRef: Shape = { 'key!': 'string', name: 'string', optional: 'boolean' };

const container: Shape = {
  'name!': 'string',
  image: 'string',
  imagePullPolicy: 'string',
  command: ['string'],
  args: ['string'],
  workingDir: 'string',
  env: [{ 'name!': 'string', value: 'string', valueFrom: { secretKeyRef: keyRef, configMapKeyRef: keyRef, fieldRef: 'object', resourceFieldRef: 'object' } }],
  envFrom: 'object',
  ports: [{ 'containerPort!': 'integer', name: 'string', protocol: 'string', hostPort: 'integer', hostIP: 'string' }],
  livenessProbe: probe,
  readinessProbe: probe,
  startupProbe: probe,
  lifecycle: 'object',
  resources: { limits: 'map:quantity', requests: 'map:quantity', claims: 'object' },
  securityContext: {
    allowPrivilegeEscalation: 'boolean',
    readOnlyRootFilesystem: 'boolean',
    runAsNonRoot: 'boolean',
    runAsUser: 'integer',
    runAsGroup: 'integer',
    privileged: 'boolean',
    capabilities: { add: ['string'], drop: ['string'] },
    seccompProfile: { 'type!': 'string', localhostProfile: 'string' },
    appArmorProfile: 'object',
    seLinuxOptions: 'object',
    procMount: 'string',
  },
  volumeMounts: [{ 'name!': 'string', 'mountPath!': 'string', subPath: 'string', subPathExpr: 'string', readOnly: 'boolean', recursiveReadOnly: 'string', mountPropagation: 'string' }],
  terminationMessagePath: 'string',
  terminationMessagePolicy: 'string',
  stdin: 'boolean',
  tty: 'boolean',
};

const podSpec: Shape = {
  'containers!': [container],
  initContainers: [container],
  volumes: [
    {
      'name!': 'string',
      configMap: { 'name!': 'string', items: [{ 'key!': 'string', 'path!': 'string', mode: 'integer' }], defaultMode: 'integer', optional: 'boolean' },
      secret: { 'secretName!': 'string', items: [{ 'key!': 'string', 'path!': 'string', mode: 'integer' }], defaultMode: 'integer', optional: 'boolean' },
      emptyDir: { medium: 'string', sizeLimit: 'int-or-string' },
      projected: 'object',
      persistentVolumeClaim: 'object',
    },
  ],
  terminationGracePeriodSeconds: 'integer',
  activeDeadlineSeconds: 'integer',
  restartPolicy: 'string',
  serviceAccountName: 'string',
  automountServiceAccountToken: 'boolean',
  enableServiceLinks: 'boolean',
  securityContext: {
    runAsNonRoot: 'boolean',
    runAsUser: 'integer',
    runAsGroup: 'integer',
    fsGroup: 'integer',
    fsGroupChangePolicy: 'string',
    supplementalGroups: ['integer'],
    seccompProfile: { 'type!': 'string', localhostProfile: 'string' },
    appArmorProfile: 'object',
    seLinuxOptions: 'object',
    sysctls: 'object',
  },
  topologySpreadConstraints: [{ 'maxSkew!': 'integer', 'topologyKey!': 'string', 'whenUnsatisfiable!': 'string', labelSelector, minDomains: 'integer', nodeAffinityPolicy: 'string', nodeTaintsPolicy: 'string', matchLabelKeys: ['string'] }],
  affinity: 'object',
  tolerations: 'object',
  nodeSelector: 'map:string',
  priorityClassName: 'string',
  imagePullSecrets: 'object',
  dnsPolicy: 'string',
  hostNetwork: 'boolean',
  shareProcessNamespace: 'boolean',
};

/** The shape of each apiVersion/kind the examples use. */
export const SHAPES: Record<string, Shape> = {
  'apps/v1 Deployment': {
    'apiVersion!': 'string',
    'kind!': 'string',
    'metadata!': objectMeta,
    'spec!': {
      replicas: 'integer',
      'selector!': labelSelector,
      'template!': { metadata: templateMeta, 'spec!': podSpec },
      strategy: { type: 'string', rollingUpdate: { maxSurge: 'int-or-string', maxUnavailable: 'int-or-string' } },
      minReadySeconds: 'integer',
      revisionHistoryLimit: 'integer',
      progressDeadlineSeconds: 'integer',
      paused: 'boolean',
    },
  },
  'v1 ConfigMap': { 'apiVersion!': 'string', 'kind!': 'string', 'metadata!': objectMeta, data: 'map:string', binaryData: 'map:string', immutable: 'boolean' },
  'v1 Secret': { 'apiVersion!': 'string', 'kind!': 'string', 'metadata!': objectMeta, type: 'string', data: 'map:string', stringData: 'map:string', immutable: 'boolean' },
  'policy/v1 PodDisruptionBudget': {
    'apiVersion!': 'string',
    'kind!': 'string',
    'metadata!': objectMeta,
    'spec!': { 'selector!': labelSelector, minAvailable: 'int-or-string', maxUnavailable: 'int-or-string', unhealthyPodEvictionPolicy: 'string' },
  },
};

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Every problem with `value` against `shape`, as `path: problem`; empty when it fits. */
export function checkShape(value: unknown, shape: Shape, at = ''): string[] {
  const here = at || '(top)';
  if (Array.isArray(shape)) {
    if (!Array.isArray(value)) return [`${here}: expected a list`];
    return value.flatMap((v, i) => checkShape(v, shape[0]!, `${at}[${i}]`));
  }
  if (typeof shape === 'object') {
    if (!isObject(value)) return [`${here}: expected an object`];
    const known = new Map(Object.entries(shape).map(([k, s]) => [k.replace(/!$/, ''), { shape: s, required: k.endsWith('!') }]));
    const problems: string[] = [];
    for (const [key, field] of known) if (field.required && !(key in value)) problems.push(`${at ? `${at}.` : ''}${key}: required`);
    for (const [key, v] of Object.entries(value)) {
      const field = known.get(key);
      if (!field) problems.push(`${at ? `${at}.` : ''}${key}: not a field of this object`);
      else problems.push(...checkShape(v, field.shape, at ? `${at}.${key}` : key));
    }
    return problems;
  }
  switch (shape) {
    case 'string':
      return typeof value === 'string' ? [] : [`${here}: expected a string, got ${JSON.stringify(value)}`];
    case 'integer':
      return Number.isInteger(value) ? [] : [`${here}: expected an integer, got ${JSON.stringify(value)}`];
    case 'boolean':
      return typeof value === 'boolean' ? [] : [`${here}: expected true or false, got ${JSON.stringify(value)}`];
    case 'int-or-string':
      return Number.isInteger(value) || typeof value === 'string' ? [] : [`${here}: expected an integer or a string, got ${JSON.stringify(value)}`];
    case 'object':
      return isObject(value) || Array.isArray(value) ? [] : [`${here}: expected an object or a list`];
    case 'map:string':
      return isObject(value) && Object.values(value).every((v) => typeof v === 'string') ? [] : [`${here}: expected a map of strings (quote numbers and booleans)`];
    case 'map:quantity':
      return isObject(value) && Object.values(value).every((v) => typeof v === 'string' || typeof v === 'number') ? [] : [`${here}: expected quantities such as 100m or 128Mi`];
  }
}
