// Turns the zod schemas into CustomResourceDefinitions: structural OpenAPI v3 schemas with a
// description on every field. The zod schemas are the single source; crds/*.yaml is output.
import { z } from 'zod';
import { GROUP, VERSION } from './v1alpha1/common.js';
import type { KindInfo } from './v1alpha1/kinds.js';

type JsonSchema = Record<string, unknown>;

const SAFE_INT = Number.MAX_SAFE_INTEGER;

export class SchemaError extends Error {
  readonly code = 'SchemaError';
}

/** Rewrites zod's JSON Schema into what the API server calls structural, checking as it goes. */
function toStructural(node: JsonSchema, path: string, problems: string[]): JsonSchema {
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(node)) {
    switch (key) {
      case '$schema':
      case 'propertyNames':
        continue; // not allowed in CRD schemas; key rules live in CEL instead
      case 'anyOf':
      case 'oneOf':
      case 'allOf':
      case 'not':
        problems.push(`${path}: ${key} is not structural; use optional fields and a CEL rule`);
        continue;
      case 'additionalProperties':
        if (value === false) continue; // zod strict objects; the API server prunes unknown fields anyway
        out[key] = toStructural(value as JsonSchema, `${path}[*]`, problems);
        continue;
      case 'minimum':
        if (value === -SAFE_INT) continue;
        out[key] = value;
        continue;
      case 'maximum':
        if (value === SAFE_INT) continue;
        out[key] = value;
        continue;
      case 'properties': {
        const props: Record<string, JsonSchema> = {};
        for (const [name, child] of Object.entries(value as Record<string, JsonSchema>)) {
          const childPath = `${path}.${name}`;
          if (typeof child.description !== 'string' || child.description.length === 0) {
            problems.push(`${childPath}: every field needs a description (.describe()) so kubectl explain teaches it`);
          }
          props[name] = toStructural(child, childPath, problems);
        }
        out[key] = props;
        continue;
      }
      case 'items':
        out[key] = toStructural(value as JsonSchema, `${path}[]`, problems);
        continue;
      default:
        out[key] = value;
    }
  }
  if (out.type === 'string' && out.enum === undefined && out.maxLength === undefined && out.format === undefined) {
    problems.push(`${path}: strings need maxLength (CEL cost estimates depend on it)`);
  }
  if (out.type === 'array' && out.maxItems === undefined) {
    problems.push(`${path}: lists need maxItems (CEL cost estimates depend on it)`);
  }
  if (out.type === undefined) problems.push(`${path}: every schema needs a type`);
  return out;
}

export function openApiSchema(schema: z.ZodType, path: string): JsonSchema {
  const json = z.toJSONSchema(schema, { target: 'openapi-3.0', io: 'input', unrepresentable: 'throw' }) as JsonSchema;
  const problems: string[] = [];
  const structural = toStructural(json, path, problems);
  if (problems.length > 0) throw new SchemaError(`schema ${path} is not a valid CRD schema:\n  ${problems.join('\n  ')}`);
  return structural;
}

export function customResourceDefinition(info: KindInfo): JsonSchema {
  const spec = openApiSchema(info.spec, `${info.kind}.spec`);
  const status = openApiSchema(info.status, `${info.kind}.status`);
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${info.plural}.${GROUP}`,
      labels: { 'app.kubernetes.io/name': 'bootplane', 'app.kubernetes.io/part-of': 'bootplane' },
    },
    spec: {
      group: GROUP,
      names: {
        kind: info.kind,
        listKind: `${info.kind}List`,
        plural: info.plural,
        singular: info.singular,
        shortNames: info.shortNames,
        categories: ['bootplane'],
      },
      scope: info.scope,
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: info.printerColumns,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description: info.description,
              required: ['spec'],
              properties: {
                apiVersion: { type: 'string', description: 'APIVersion defines the versioned schema of this representation of an object.' },
                kind: { type: 'string', description: 'Kind is a string value representing the REST resource this object represents.' },
                metadata: { type: 'object' },
                spec,
                status,
              },
            },
          },
        },
      ],
    },
  };
}
