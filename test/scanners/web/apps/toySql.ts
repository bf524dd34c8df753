/**
 * A toy SQL WHERE-clause evaluator for the insecure test app: enough of SQL to behave
 * like a vulnerable query (`... WHERE id = <input>` or `... WHERE name = '<input>'`):
 * unbalanced quotes are syntax errors, `AND`/`OR` of comparisons between numbers and
 * strings are evaluated, `-- ` and `#` start comments. Nothing else.
 */

export class ToySqlError extends Error {
  constructor(readonly near: string) {
    super(
      `You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version for the right syntax to use near '${near}' at line 1`,
    );
  }
}

type Token = { kind: 'num' | 'str' | 'word' | 'op' | 'col'; text: string };

function lex(sql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < sql.length) {
    const c = sql[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '-' && sql[i + 1] === '-' && (sql[i + 2] === ' ' || i + 2 >= sql.length)) {
      break;
    } else if (c === '#') {
      break;
    } else if (c === "'" || c === '"') {
      const close = sql.indexOf(c, i + 1);
      if (close === -1) throw new ToySqlError(sql.slice(i, i + 20));
      tokens.push({ kind: 'str', text: sql.slice(i + 1, close) });
      i = close + 1;
    } else if (/\d/.test(c)) {
      const m = /^\d+/.exec(sql.slice(i))![0];
      tokens.push({ kind: 'num', text: m });
      i += m.length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^\w+/.exec(sql.slice(i))![0];
      tokens.push({ kind: ['AND', 'OR'].includes(m.toUpperCase()) ? 'word' : 'col', text: m });
      i += m.length;
    } else if (c === '=' || c === '<' || c === '>') {
      const op =
        sql.slice(i, i + 2) === '<>' || sql.slice(i, i + 2) === '>=' || sql.slice(i, i + 2) === '<='
          ? sql.slice(i, i + 2)
          : c;
      tokens.push({ kind: 'op', text: op });
      i += op.length;
    } else {
      throw new ToySqlError(sql.slice(i, i + 20));
    }
  }
  return tokens;
}

/** Evaluates `<column> = <input>...` for one row: returns whether the row matches. */
export function toyWhere(sql: string, row: Readonly<Record<string, string | number>>): boolean {
  const tokens = lex(sql);
  let i = 0;
  const value = (): string | number => {
    const t = tokens[i++];
    if (!t) throw new ToySqlError('');
    if (t.kind === 'num') return Number(t.text);
    if (t.kind === 'str') return t.text;
    if (t.kind === 'col') {
      if (!(t.text in row)) throw new ToySqlError(t.text);
      return row[t.text]!;
    }
    throw new ToySqlError(t.text);
  };
  const comparison = (): boolean => {
    const left = value();
    const op = tokens[i++];
    if (!op || op.kind !== 'op') throw new ToySqlError(op?.text ?? '');
    const right = value();
    // MySQL compares a number and a string numerically.
    const l = typeof left === 'number' || typeof right === 'number' ? Number(left) : left;
    const r = typeof left === 'number' || typeof right === 'number' ? Number(right) : right;
    switch (op.text) {
      case '=':
        return l === r;
      case '<>':
        return l !== r;
      case '<':
        return l < r;
      case '>':
        return l > r;
      case '<=':
        return l <= r;
      default:
        return l >= r;
    }
  };
  let result = comparison();
  while (i < tokens.length) {
    const word = tokens[i++]!;
    if (word.kind !== 'word') throw new ToySqlError(word.text);
    const next = comparison();
    result = word.text.toUpperCase() === 'AND' ? result && next : result || next;
  }
  return result;
}
