/**
 * The subset of nuclei's DSL (govaluate expressions with helper functions) that our
 * engine runs: a real tokenizer, parser and evaluator — never `eval` or `Function`.
 *
 * Grammar (lowest precedence first):
 *
 *     expression := or
 *     or         := and ('||' and)*
 *     and        := unary ('&&' unary)*
 *     unary      := '!' unary | comparison
 *     comparison := primary (('==' | '!=' | '<' | '<=' | '>' | '>=') primary)?
 *     primary    := number | string | 'true' | 'false' | identifier
 *                 | identifier '(' [expression (',' expression)*] ')' | '(' expression ')'
 *
 * Functions: `contains`, `len`, `regex`, `tolower` (the subset) and `toupper`,
 * `contains_any`, `contains_all`, `starts_with`, `ends_with` (same meaning as nuclei's).
 * `regex` takes its pattern as a string literal (compiled once, at load, by the
 * linear-time RE2 engine). Any other function, operator or syntax is refused at load
 * with a message naming it.
 *
 * Values: strings, numbers, booleans. Identifiers are the response's fields
 * (`body`, `status_code`, `all_headers`, `header`, `response`, `content_length`) and
 * its headers (`content_type`, `server`, … — lower case, '-' as '_'); a name the
 * response lacks is an evaluation error, and an expression that errors is false
 * (as in nuclei, where a missing parameter fails the expression).
 */
import { compileRegex, RegexError, type CompiledRegex } from './regex.js';

export type DslValue = string | number | boolean;

export type DslNode =
  | { readonly kind: 'literal'; readonly value: DslValue }
  | { readonly kind: 'variable'; readonly name: string }
  | { readonly kind: 'not'; readonly operand: DslNode }
  | { readonly kind: 'logical'; readonly operator: '&&' | '||'; readonly left: DslNode; readonly right: DslNode }
  | {
      readonly kind: 'compare';
      readonly operator: '==' | '!=' | '<' | '<=' | '>' | '>=';
      readonly left: DslNode;
      readonly right: DslNode;
    }
  | {
      readonly kind: 'call';
      readonly name: DslFunctionName;
      readonly args: readonly DslNode[];
      readonly regex?: CompiledRegex;
    };

/** A DSL expression that is not in the supported subset or does not parse. */
export class DslError extends Error {
  override name = 'DslError';
}

/** Raised while evaluating (a missing field, a type mismatch): the expression is false. */
class DslEvaluationError extends Error {}

const FUNCTIONS = {
  contains: { min: 2, max: 2 },
  contains_any: { min: 2, max: 50 },
  contains_all: { min: 2, max: 50 },
  starts_with: { min: 2, max: 50 },
  ends_with: { min: 2, max: 50 },
  len: { min: 1, max: 1 },
  regex: { min: 2, max: 2 },
  tolower: { min: 1, max: 1 },
  toupper: { min: 1, max: 1 },
} as const;
export type DslFunctionName = keyof typeof FUNCTIONS;
export const DSL_FUNCTIONS = Object.keys(FUNCTIONS) as readonly DslFunctionName[];

type Token =
  | { type: 'number'; value: number; at: number }
  | { type: 'string'; value: string; at: number }
  | { type: 'identifier'; value: string; at: number }
  | { type: 'operator'; value: string; at: number }
  | { type: 'end'; at: number };

const OPERATORS = ['&&', '||', '==', '!=', '<=', '>=', '<', '>', '!', '(', ')', ','];
const MAX_EXPRESSION_LENGTH = 4000;
const MAX_DEPTH = 40;

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const c = source[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (/[0-9]/.test(c)) {
      const match = /^[0-9]+(?:\.[0-9]+)?/.exec(source.slice(i))!;
      tokens.push({ type: 'number', value: Number(match[0]), at: i });
      i += match[0].length;
      continue;
    }
    if (c === '"' || c === "'") {
      let value = '';
      let j = i + 1;
      for (; j < source.length && source[j] !== c; j++) {
        if (source[j] === '\\') {
          const next = source[j + 1];
          if (next === undefined) break;
          value += next === 'n' ? '\n' : next === 't' ? '\t' : next === 'r' ? '\r' : next;
          j++;
        } else {
          value += source[j];
        }
      }
      if (j >= source.length) throw new DslError(`unterminated string starting at character ${i + 1}`);
      tokens.push({ type: 'string', value, at: i });
      i = j + 1;
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      const match = /^[A-Za-z_][A-Za-z0-9_]*/.exec(source.slice(i))!;
      tokens.push({ type: 'identifier', value: match[0], at: i });
      i += match[0].length;
      continue;
    }
    const operator = OPERATORS.find((op) => source.startsWith(op, i));
    if (!operator) {
      throw new DslError(
        `unsupported character ${JSON.stringify(c)} at character ${i + 1} (operators: && || ! == != < <= > >=)`,
      );
    }
    tokens.push({ type: 'operator', value: operator, at: i });
    i += operator.length;
  }
  tokens.push({ type: 'end', at: source.length });
  return tokens;
}

/** Parses (and checks) one expression; regex patterns are compiled here. */
export function parseDsl(source: string): DslNode {
  if (source.length > MAX_EXPRESSION_LENGTH) {
    throw new DslError(`expression longer than ${MAX_EXPRESSION_LENGTH} characters`);
  }
  const tokens = tokenize(source);
  let position = 0;
  let depth = 0;
  const peek = () => tokens[position]!;
  const isOperator = (value: string) => {
    const token = peek();
    return token.type === 'operator' && token.value === value;
  };
  const expect = (value: string) => {
    if (!isOperator(value)) throw new DslError(`expected "${value}" at character ${peek().at + 1}`);
    position++;
  };
  const describe = (token: Token) =>
    token.type === 'end' ? 'the end of the expression' : `"${'value' in token ? String(token.value) : ''}"`;

  function enter(): void {
    if (++depth > MAX_DEPTH) throw new DslError(`expression nested deeper than ${MAX_DEPTH} levels`);
  }

  function or(): DslNode {
    enter();
    let left = and();
    while (isOperator('||')) {
      position++;
      left = { kind: 'logical', operator: '||', left, right: and() };
    }
    depth--;
    return left;
  }

  function and(): DslNode {
    let left = unary();
    while (isOperator('&&')) {
      position++;
      left = { kind: 'logical', operator: '&&', left, right: unary() };
    }
    return left;
  }

  function unary(): DslNode {
    if (isOperator('!')) {
      position++;
      enter();
      const operand = unary();
      depth--;
      return { kind: 'not', operand };
    }
    return comparison();
  }

  function comparison(): DslNode {
    const left = primary();
    const token = peek();
    if (token.type === 'operator' && ['==', '!=', '<', '<=', '>', '>='].includes(token.value)) {
      position++;
      const right = primary();
      const next = peek();
      if (next.type === 'operator' && ['==', '!=', '<', '<=', '>', '>='].includes(next.value)) {
        throw new DslError(`chained comparison at character ${next.at + 1}: use && between comparisons`);
      }
      return { kind: 'compare', operator: token.value as '==', left, right };
    }
    return left;
  }

  function primary(): DslNode {
    const token = peek();
    if (token.type === 'number' || token.type === 'string') {
      position++;
      return { kind: 'literal', value: token.value };
    }
    if (token.type === 'operator' && token.value === '(') {
      position++;
      const inner = or();
      expect(')');
      return inner;
    }
    if (token.type === 'identifier') {
      position++;
      if (token.value === 'true' || token.value === 'false') return { kind: 'literal', value: token.value === 'true' };
      if (!isOperator('(')) return { kind: 'variable', name: token.value };
      position++;
      const name = token.value;
      if (!(name in FUNCTIONS)) {
        throw new DslError(`unsupported DSL function "${name}" (supported: ${DSL_FUNCTIONS.join(', ')})`);
      }
      const args: DslNode[] = [];
      if (!isOperator(')')) {
        args.push(or());
        while (isOperator(',')) {
          position++;
          args.push(or());
        }
      }
      expect(')');
      const arity = FUNCTIONS[name as DslFunctionName];
      if (args.length < arity.min || args.length > arity.max) {
        const wanted = arity.min === arity.max ? `${arity.min}` : `${arity.min} or more`;
        throw new DslError(`${name}() takes ${wanted} argument(s), got ${args.length}`);
      }
      if (name === 'regex') {
        const pattern = args[0]!;
        if (pattern.kind !== 'literal' || typeof pattern.value !== 'string') {
          throw new DslError('regex() takes its pattern as a string literal, e.g. regex("[0-9]+", body)');
        }
        try {
          return { kind: 'call', name: 'regex', args, regex: compileRegex(pattern.value) };
        } catch (error) {
          if (error instanceof RegexError) throw new DslError(error.message);
          throw error;
        }
      }
      return { kind: 'call', name: name as DslFunctionName, args };
    }
    throw new DslError(`unexpected ${describe(token)} at character ${token.at + 1}`);
  }

  const tree = or();
  if (peek().type !== 'end') throw new DslError(`unexpected ${describe(peek())} at character ${peek().at + 1}`);
  return tree;
}

/** The variables an expression reads. */
export function dslVariables(node: DslNode, into: Set<string> = new Set()): Set<string> {
  switch (node.kind) {
    case 'variable':
      into.add(node.name);
      break;
    case 'not':
      dslVariables(node.operand, into);
      break;
    case 'logical':
    case 'compare':
      dslVariables(node.left, into);
      dslVariables(node.right, into);
      break;
    case 'call':
      for (const arg of node.args) dslVariables(arg, into);
      break;
    case 'literal':
      break;
  }
  return into;
}

/** Looks a variable up; undefined when the response has no such field. */
export type DslScope = (name: string) => DslValue | undefined;

function asString(value: DslValue): string {
  return typeof value === 'string' ? value : String(value);
}

function asBoolean(value: DslValue, what: string): boolean {
  if (typeof value !== 'boolean') throw new DslEvaluationError(`${what} needs a boolean`);
  return value;
}

function evaluateNode(node: DslNode, scope: DslScope): DslValue {
  switch (node.kind) {
    case 'literal':
      return node.value;
    case 'variable': {
      const value = scope(node.name);
      if (value === undefined) throw new DslEvaluationError(`no parameter "${node.name}"`);
      return value;
    }
    case 'not':
      return !asBoolean(evaluateNode(node.operand, scope), '!');
    case 'logical': {
      const left = asBoolean(evaluateNode(node.left, scope), node.operator);
      if (node.operator === '&&' ? !left : left) return left;
      return asBoolean(evaluateNode(node.right, scope), node.operator);
    }
    case 'compare': {
      const left = evaluateNode(node.left, scope);
      const right = evaluateNode(node.right, scope);
      if (node.operator === '==') return left === right;
      if (node.operator === '!=') return left !== right;
      if (typeof left !== 'number' || typeof right !== 'number') {
        throw new DslEvaluationError(`${node.operator} compares numbers`);
      }
      switch (node.operator) {
        case '<':
          return left < right;
        case '<=':
          return left <= right;
        case '>':
          return left > right;
        case '>=':
          return left >= right;
      }
      throw new DslEvaluationError('unknown comparison');
    }
    case 'call': {
      const args = node.args.map((arg) => evaluateNode(arg, scope));
      const [first = '', ...rest] = args.map(asString);
      switch (node.name) {
        case 'contains':
          return first.includes(rest[0]!);
        case 'contains_any':
          return rest.some((needle) => first.includes(needle));
        case 'contains_all':
          return rest.every((needle) => first.includes(needle));
        case 'starts_with':
          return rest.some((prefix) => first.startsWith(prefix));
        case 'ends_with':
          return rest.some((suffix) => first.endsWith(suffix));
        case 'len':
          return Buffer.byteLength(first);
        case 'tolower':
          return first.toLowerCase();
        case 'toupper':
          return first.toUpperCase();
        case 'regex':
          return node.regex!.test(rest[0]!);
      }
    }
  }
  throw new DslEvaluationError('unknown expression');
}

/** Evaluates an expression: true only when it yields the boolean true; errors count as false. */
export function evaluateDsl(node: DslNode, scope: DslScope): boolean {
  try {
    return evaluateNode(node, scope) === true;
  } catch (error) {
    if (error instanceof DslEvaluationError) return false;
    throw error;
  }
}
