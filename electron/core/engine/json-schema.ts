/**
 * Checks a JSON schema before it becomes a grammar. node-llama-cpp accepts anything and
 * silently turns what it does not understand into "any value" (or `null`), which would make
 * a person's typo a grammar that constrains nothing; here such a schema is refused instead,
 * naming the place at fault. Covers the subset node-llama-cpp's GBNF converter supports.
 */
const TYPES = new Set(['string', 'number', 'integer', 'boolean', 'null', 'object', 'array']);

/** Returns null when the schema is usable, else where and why it is not. */
export function findJsonSchemaProblem(schema: unknown): string | null {
  if (!isObject(schema)) return '(schema): must be an object';
  const defs = isObject(schema['$defs']) ? schema['$defs'] : {};
  return check(schema, '(schema)', defs);
}

function check(node: unknown, at: string, defs: Record<string, unknown>): string | null {
  if (!isObject(node)) return `${at}: must be an object`;
  const type = node['type'];
  if (type !== undefined) {
    const types = Array.isArray(type) ? type : [type];
    if (types.length === 0) return `${at}.type: must name at least one type`;
    for (const item of types) {
      if (typeof item !== 'string' || !TYPES.has(item)) return `${at}.type: ${JSON.stringify(item)} is not one of ${[...TYPES].join(', ')}`;
    }
  }
  if ('enum' in node && (!Array.isArray(node['enum']) || node['enum'].length === 0)) return `${at}.enum: must be a non-empty array`;
  for (const key of ['oneOf', 'anyOf'] as const) {
    if (!(key in node)) continue;
    const options = node[key];
    if (!Array.isArray(options) || options.length === 0) return `${at}.${key}: must be a non-empty array of schemas`;
    for (const [index, option] of options.entries()) {
      const problem = check(option, `${at}.${key}[${index}]`, defs);
      if (problem) return problem;
    }
  }
  if ('$ref' in node) {
    const ref = node['$ref'];
    const match = typeof ref === 'string' ? /^#\/\$defs\/(.+)$/.exec(ref) : null;
    if (!match?.[1] || !(match[1] in defs)) return `${at}.$ref: ${JSON.stringify(ref)} does not name an entry of $defs`;
  }
  if ('properties' in node) {
    const properties = node['properties'];
    if (!isObject(properties)) return `${at}.properties: must be an object of schemas`;
    for (const [name, property] of Object.entries(properties)) {
      const problem = check(property, `${at}.properties.${name}`, defs);
      if (problem) return problem;
    }
  }
  if ('required' in node && (!Array.isArray(node['required']) || !node['required'].every((item) => typeof item === 'string'))) {
    return `${at}.required: must be an array of property names`;
  }
  const additional = node['additionalProperties'];
  if (additional !== undefined && typeof additional !== 'boolean') {
    const problem = check(additional, `${at}.additionalProperties`, defs);
    if (problem) return problem;
  }
  if ('items' in node) {
    const problem = check(node['items'], `${at}.items`, defs);
    if (problem) return problem;
  }
  if ('prefixItems' in node) {
    const items = node['prefixItems'];
    if (!Array.isArray(items)) return `${at}.prefixItems: must be an array of schemas`;
    for (const [index, item] of items.entries()) {
      const problem = check(item, `${at}.prefixItems[${index}]`, defs);
      if (problem) return problem;
    }
  }
  for (const key of ['minItems', 'maxItems', 'minLength', 'maxLength'] as const) {
    const value = node[key];
    if (value !== undefined && (typeof value !== 'number' || !Number.isInteger(value) || value < 0)) return `${at}.${key}: must be a whole number`;
  }
  for (const [name, def] of Object.entries(isObject(node['$defs']) ? node['$defs'] : {})) {
    const problem = check(def, `${at}.$defs.${name}`, defs);
    if (problem) return problem;
  }
  return null;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
