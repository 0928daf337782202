//! How each database spells names and where SQL given by the user may go: identifier
//! quoting (PostgreSQL's double quotes now; MySQL's backticks will follow), qualified
//! table names, and the check that a row filter or a query cannot end the bracket it is
//! placed in. It builds no statement and knows no connection.

use crate::error::{Error, Result};

/// The spelling rules of one database's SQL.
#[derive(Debug, Clone, Copy)]
pub struct Dialect {
    /// The character that quotes an identifier (doubled inside it).
    pub identifier_quote: u8,
    /// The characters that open a string or a quoted name, each closed by itself and
    /// doubled inside it.
    pub quotes: &'static [u8],
    /// Whether `$tag$ … $tag$` strings exist, which the check cannot follow.
    pub dollar_quoting: bool,
    /// The most parts a table name may have (`database.schema.table` is three).
    pub max_name_parts: usize,
}

/// PostgreSQL's rules.
pub const POSTGRES: Dialect = Dialect {
    identifier_quote: b'"',
    quotes: b"'\"",
    dollar_quoting: true,
    max_name_parts: 3,
};

impl Dialect {
    /// `name` quoted as one identifier, whatever it holds.
    pub fn quote_ident(&self, name: &str) -> String {
        let quote = self.identifier_quote as char;
        let doubled = format!("{quote}{quote}");
        format!("{quote}{}{quote}", name.replace(quote, &doubled))
    }

    /// Quotes a possibly qualified table name (`schema.table`); parts already quoted are
    /// kept as they are.
    pub fn quote_table(&self, name: &str) -> Result<String> {
        let quote = self.identifier_quote;
        let unreadable = || {
            Error::Config(format!(
                "cannot read table name {name:?}; write schema.table"
            ))
        };
        let mut parts = Vec::new();
        let mut rest = name.trim();
        while !rest.is_empty() {
            if rest.as_bytes()[0] == quote {
                let after = &rest[1..];
                // A quoted identifier: up to the closing quote that is not doubled.
                let bytes = after.as_bytes();
                let mut end = None;
                let mut i = 0;
                while i < bytes.len() {
                    if bytes[i] == quote {
                        if bytes.get(i + 1) == Some(&quote) {
                            i += 2;
                            continue;
                        }
                        end = Some(i);
                        break;
                    }
                    i += 1;
                }
                let end = end.ok_or_else(|| {
                    Error::Config(format!("table name {name:?} has an unclosed quote"))
                })?;
                let q = quote as char;
                parts.push(format!("{q}{}{q}", &after[..end]));
                rest = after[end + 1..].trim_start();
            } else {
                let end = rest.find('.').unwrap_or(rest.len());
                parts.push(self.quote_ident(rest[..end].trim()));
                rest = &rest[end..];
            }
            if let Some(after) = rest.strip_prefix('.') {
                rest = after.trim_start();
            } else if !rest.is_empty() {
                return Err(unreadable());
            }
        }
        if parts.is_empty() || parts.len() > self.max_name_parts {
            return Err(unreadable());
        }
        Ok(parts.join("."))
    }

    /// Refuses SQL that could end the bracket or statement it is embedded in (a row
    /// filter goes in `WHERE (…)`, a query in `(…) AS recon_q`): unbalanced brackets or a
    /// `;` outside strings and quoted names, comments, and strings the check cannot follow.
    pub fn check_embedded_sql(&self, sql: &str) -> std::result::Result<(), &'static str> {
        let bytes = sql.as_bytes();
        let mut depth = 0i32;
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                quote if self.quotes.contains(&quote) => {
                    i += 1;
                    loop {
                        match bytes.get(i) {
                            None => return Err("a quote is never closed"),
                            Some(&b) if b == quote && bytes.get(i + 1) == Some(&quote) => i += 2,
                            Some(&b) if b == quote => break,
                            Some(_) => i += 1,
                        }
                    }
                }
                b'-' if bytes.get(i + 1) == Some(&b'-') => {
                    return Err("comments are not allowed here; remove them");
                }
                b'/' if bytes.get(i + 1) == Some(&b'*') => {
                    return Err("comments are not allowed here; remove them");
                }
                b'$' if self.dollar_quoting => {
                    return Err("dollar quoting is not allowed here; use '…' strings");
                }
                b';' => return Err("';' is not allowed: give one condition or one SELECT"),
                b'(' => depth += 1,
                b')' => {
                    depth -= 1;
                    if depth < 0 {
                        return Err("a ')' closes a bracket that was never opened");
                    }
                }
                _ => {}
            }
            i += 1;
        }
        if depth != 0 {
            return Err("brackets are not balanced");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_are_quoted_safely() {
        let quote = |name| POSTGRES.quote_table(name);
        assert_eq!(
            quote("public.customers").unwrap(),
            "\"public\".\"customers\""
        );
        assert_eq!(
            quote("\"My Schema\".\"Big \"\"T\"\"\"").unwrap(),
            "\"My Schema\".\"Big \"\"T\"\"\""
        );
        assert_eq!(
            quote("x\"; DROP TABLE y; --").unwrap(),
            "\"x\"\"; DROP TABLE y; --\""
        );
        assert!(quote("\"open").is_err());
        assert!(quote("").is_err());
        assert!(quote("a.b.c.d").is_err());
    }

    #[test]
    fn embedded_sql_cannot_escape_its_brackets() {
        let check = |sql| POSTGRES.check_embedded_sql(sql);
        assert!(check("created_at >= '2026-11-01' AND (a = 1 OR b = ')')").is_ok());
        assert!(check("\"Odd ) name\" = 1").is_ok());
        assert!(check("id < 0) OR (id > 0").is_err());
        assert!(check("1 = 1; DROP TABLE t").is_err());
        assert!(check("a = 1 -- )").is_err());
        assert!(check("a = 'open").is_err());
        assert!(check("(a = 1").is_err());
        assert!(check("a = $$x$$").is_err());
    }
}
