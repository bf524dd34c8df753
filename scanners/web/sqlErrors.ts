/**
 * Error messages of databases and query languages, by engine: a payload that makes
 * one of these appear (when the unmodified request did not show it) proves the input
 * reached a query. Written from the engines' documented error texts.
 */

export interface QueryError {
  /** 'SQL' (with `dbms`), 'XPath' or 'LDAP'. */
  readonly language: 'SQL' | 'XPath' | 'LDAP';
  readonly dbms: string;
  readonly match: string;
}

const SQL_ERRORS: readonly (readonly [string, readonly RegExp[]])[] = [
  [
    'MySQL',
    [
      /SQL syntax.{0,200}?MySQL/,
      /Warning.{0,100}?\Wmysqli?_/,
      /MySQLSyntaxErrorException/,
      /valid MySQL result/,
      /check the manual that (?:corresponds to|fits) your (?:MySQL|MariaDB|Drizzle) server version/,
      /Unknown column '[^ ]+' in '(?:field list|where clause|order clause)'/,
      /MySqlClient\./,
      /com\.mysql\.jdbc/,
      /Zend_Db_(?:Adapter|Statement)_Mysqli_Exception/,
      /Pdo[./_\\]Mysql/,
      /MySqlException/,
      /SQLSTATE\[\d+\]: Syntax error or access violation/,
    ],
  ],
  [
    'PostgreSQL',
    [
      /PostgreSQL.{0,100}?ERROR/,
      /Warning.{0,100}?\Wpg_/,
      /valid PostgreSQL result/,
      /Npgsql\./,
      /PG::SyntaxError:/,
      /org\.postgresql\.util\.PSQLException/,
      /ERROR:\s+syntax error at or near/,
      /ERROR: parser: parse error at or near/,
      /PostgreSQL query failed/,
      /unterminated quoted string at or near/,
      /Pdo[./_\\]Pgsql/,
    ],
  ],
  [
    'Microsoft SQL Server',
    [
      /Driver.{0,100}? SQL[-_ ]*Server/,
      /OLE DB.{0,100}? SQL Server/,
      /\bSQL Server[^&<"]+Driver/,
      /Warning.{0,100}?\W(?:mssql|sqlsrv)_/,
      /System\.Data\.SqlClient\.SqlException/,
      /Microsoft SQL Native Client error '[0-9a-fA-F]{8}/,
      /\[SQL Server\]/,
      /ODBC SQL Server Driver/,
      /ODBC Driver \d+ for SQL Server/,
      /SQLServer JDBC Driver/,
      /com\.microsoft\.sqlserver\.jdbc/,
      /Unclosed quotation mark after the character string/,
      /Incorrect syntax near '/,
      /Pdo[./_\\](?:Mssql|SqlSrv)/,
    ],
  ],
  [
    'Microsoft Access',
    [
      /Microsoft Access (?:\d+ )?Driver/,
      /JET Database Engine/,
      /Access Database Engine/,
      /ODBC Microsoft Access/,
      /Syntax error \(missing operator\) in query expression/,
    ],
  ],
  [
    'Oracle',
    [
      /\bORA-\d{5}/,
      /Oracle error/,
      /Oracle.{0,100}?Driver/,
      /Warning.{0,100}?\W(?:oci|ora)_/,
      /quoted string not properly terminated/,
      /SQL command not properly ended/,
      /oracle\.jdbc/,
      /OracleException/,
    ],
  ],
  [
    'IBM DB2',
    [
      /CLI Driver.{0,100}?DB2/,
      /DB2 SQL error/,
      /\bdb2_\w+\(/,
      /SQLCODE[=:\d, -]+SQLSTATE/,
      /com\.ibm\.db2\.jcc/,
      /DB2Exception/,
    ],
  ],
  [
    'SQLite',
    [
      /SQLite\/JDBCDriver/,
      /SQLite\.Exception/,
      /(?:Microsoft|System)\.Data\.SQLite\.SQLiteException/,
      /Warning.{0,100}?\W(?:sqlite_|SQLite3::)/,
      /\[SQLITE_ERROR\]/,
      /SQLite error \d+:/,
      /sqlite3\.OperationalError:/,
      /SQLite3::SQLException/,
      /org\.sqlite\.JDBC/,
      /SQLiteException/,
      /unrecognized token: "[^"]*"/,
      /near "[^"]*": syntax error/,
    ],
  ],
  ['Informix', [/Warning.{0,100}?\Wifx_/, /Exception.{0,100}?Informix/, /Informix ODBC Driver/, /com\.informix\.jdbc/]],
  ['Firebird', [/Dynamic SQL Error/, /Warning.{0,100}?\Wibase_/, /org\.firebirdsql\.jdbc/]],
  ['Sybase', [/Warning.{0,100}?\Wsybase_/, /Sybase message/, /Sybase.{0,100}?Server message/, /SybSQLException/]],
  [
    'HSQLDB',
    [/Unexpected end of command in statement \[/, /Unexpected token.{0,100}?in statement \[/, /org\.hsqldb\.jdbc/],
  ],
  ['H2', [/org\.h2\.jdbc/, /\[42000-\d{3}\]/]],
  ['Apache Derby', [/Syntax error: Encountered/, /org\.apache\.derby/, /ERROR 42X01/]],
  ['Ingres', [/Warning.{0,100}?\Wingres_/, /Ingres SQLSTATE/, /Ingres\W.{0,100}?Driver/]],
  ['SAP MaxDB', [/SQL error.{0,100}?POS\(\d+\)/, /Warning.{0,100}?\Wmaxdb_/, /com\.sap\.dbtech\.jdbc/]],
  ['Spring JDBC', [/StatementCallback; bad SQL grammar/]],
];

const XPATH_ERRORS = [
  /XPathException/,
  /Warning: SimpleXMLElement::xpath\(\):/,
  /javax\.xml\.xpath/,
  /Invalid XPath expression/i,
];
const LDAP_ERRORS = [
  /supplied argument is not a valid ldap/i,
  /javax\.naming\.NameNotFoundException/,
  /LDAPException/,
  /Bad search filter/i,
  /Protocol error occurred/,
];

/** The first database, XPath or LDAP error message in `text`, or null. */
export function findQueryError(text: string): QueryError | null {
  const body = text.length > 1_000_000 ? text.slice(0, 1_000_000) : text;
  for (const [dbms, patterns] of SQL_ERRORS) {
    for (const pattern of patterns) {
      const match = pattern.exec(body);
      if (match) return { language: 'SQL', dbms, match: match[0].slice(0, 200) };
    }
  }
  for (const pattern of XPATH_ERRORS) {
    const match = pattern.exec(body);
    if (match) return { language: 'XPath', dbms: 'XPath', match: match[0] };
  }
  for (const pattern of LDAP_ERRORS) {
    const match = pattern.exec(body);
    if (match) return { language: 'LDAP', dbms: 'LDAP', match: match[0] };
  }
  return null;
}
