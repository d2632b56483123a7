package clickhouse

import (
	"fmt"
	"strings"
)

// CommandError says why CheckReadCommand refused a command. Pos is the
// byte offset in the command where the problem was found.
type CommandError struct {
	Pos int
	Msg string
}

func (e *CommandError) Error() string {
	return fmt.Sprintf("command refused at byte %d: %s", e.Pos, e.Msg)
}

// Is makes a *CommandError match ErrInvalid.
func (e *CommandError) Is(target error) bool { return target == ErrInvalid }

type tokKind uint8

const (
	tokWord   tokKind = iota // bare word: keyword or identifier
	tokQuoted                // `quoted` or "quoted" identifier (text unescaped)
	tokString                // 'string literal'
	tokNumber
	tokPunct // one operator or punctuation byte, or a multi-byte operator
)

type token struct {
	kind tokKind
	text string // identifier text (unescaped for tokQuoted), or the raw token
	pos  int
	end  int // offset after the token in the command
}

func (t token) isWord(w string) bool  { return t.kind == tokWord && strings.EqualFold(t.text, w) }
func (t token) isPunct(p string) bool { return t.kind == tokPunct && t.text == p }
func (t token) isIdent() bool         { return t.kind == tokWord || t.kind == tokQuoted }

// lex splits a ClickHouse statement into tokens. It is deliberately
// stricter than the server's lexer: anything whose meaning could differ
// between versions (nested or unterminated comments, '#' comments, $$
// heredocs, {query parameters}, escapes in identifiers other than \\ \`
// \" \', non-ASCII bytes outside quotes) is refused rather than guessed.
func lex(s string) ([]token, error) {
	var out []token
	i := 0
	for i < len(s) {
		if n := len(out); n > 0 && out[n-1].end == 0 {
			out[n-1].end = i
		}
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			i++
		case c == '-' && i+1 < len(s) && s[i+1] == '-':
			j := strings.IndexByte(s[i:], '\n')
			if j < 0 {
				i = len(s)
			} else {
				i += j + 1
			}
		case c == '/' && i+1 < len(s) && s[i+1] == '*':
			j := strings.Index(s[i+2:], "*/")
			if j < 0 {
				return nil, &CommandError{Pos: i, Msg: "unterminated /* comment"}
			}
			if strings.Contains(s[i+2:i+2+j], "/*") {
				// Newer servers nest comments, older ones do not.
				return nil, &CommandError{Pos: i, Msg: "nested /* comments are not accepted"}
			}
			i += 2 + j + 2
		case c == '\'':
			end, _, err := scanQuoted(s, i, false)
			if err != nil {
				return nil, err
			}
			out = append(out, token{kind: tokString, text: s[i:end], pos: i})
			i = end
		case c == '`' || c == '"':
			end, text, err := scanQuoted(s, i, true)
			if err != nil {
				return nil, err
			}
			out = append(out, token{kind: tokQuoted, text: text, pos: i})
			i = end
		case isWordStart(c):
			j := i + 1
			for j < len(s) && isWordByte(s[j]) {
				j++
			}
			out = append(out, token{kind: tokWord, text: s[i:j], pos: i})
			i = j
		case isDigit(c) || (c == '.' && i+1 < len(s) && isDigit(s[i+1]) && !afterOperand(out)):
			j := i + 1
			for j < len(s) {
				d := s[j]
				if isWordByte(d) || (d == '.' && !strings.HasPrefix(s[i:j], "0x")) {
					j++
				} else if (d == '+' || d == '-') && (s[j-1] == 'e' || s[j-1] == 'E' || s[j-1] == 'p' || s[j-1] == 'P') {
					j++
				} else {
					break
				}
			}
			out = append(out, token{kind: tokNumber, text: s[i:j], pos: i})
			i = j
		case strings.IndexByte("()[],.;+-*/%<>=!|?:", c) >= 0:
			n := 1
			if i+1 < len(s) {
				switch s[i : i+2] {
				case "<=", ">=", "!=", "<>", "==", "||", "->", "::":
					n = 2
				}
			}
			out = append(out, token{kind: tokPunct, text: s[i : i+n], pos: i})
			i += n
		default:
			return nil, &CommandError{Pos: i, Msg: fmt.Sprintf("unexpected character %q", rune(c))}
		}
	}
	if n := len(out); n > 0 && out[n-1].end == 0 {
		out[n-1].end = i
	}
	return out, nil
}

// afterOperand reports whether the previous token ends an operand, so a
// following ".5" is member access (t.1) rather than a number.
func afterOperand(toks []token) bool {
	if len(toks) == 0 {
		return false
	}
	t := toks[len(toks)-1]
	return t.kind == tokWord || t.kind == tokQuoted || t.kind == tokNumber || t.isPunct(")") || t.isPunct("]")
}

func isWordStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}
func isWordByte(c byte) bool { return isWordStart(c) || isDigit(c) }
func isDigit(c byte) bool    { return c >= '0' && c <= '9' }

// scanQuoted reads a quoted token starting at s[i] and returns the offset
// after it and, for identifiers, its unescaped text. A doubled quote is
// the quote itself. In identifiers only \\ \` \" \' are accepted so the
// text compared against the database name is exactly what the server
// resolves; string literals may contain any escape.
func scanQuoted(s string, i int, ident bool) (int, string, error) {
	q := s[i]
	var b strings.Builder
	j := i + 1
	for j < len(s) {
		c := s[j]
		switch {
		case c == '\\':
			if j+1 >= len(s) {
				return 0, "", &CommandError{Pos: i, Msg: "unterminated quoted text"}
			}
			e := s[j+1]
			if ident && e != '\\' && e != '`' && e != '"' && e != '\'' {
				return 0, "", &CommandError{Pos: j, Msg: fmt.Sprintf(`escape \%c in a quoted identifier is not accepted`, e)}
			}
			b.WriteByte(e)
			j += 2
		case c == q:
			if j+1 < len(s) && s[j+1] == q {
				b.WriteByte(q)
				j += 2
				continue
			}
			return j + 1, b.String(), nil
		default:
			b.WriteByte(c)
			j++
		}
	}
	return 0, "", &CommandError{Pos: i, Msg: "unterminated quoted text"}
}

// notAlias lists words that may follow a table expression without being
// its alias.
var notAlias = map[string]bool{
	"WHERE": true, "PREWHERE": true, "GROUP": true, "ORDER": true, "LIMIT": true, "HAVING": true,
	"UNION": true, "FINAL": true, "SAMPLE": true, "ARRAY": true, "LEFT": true, "RIGHT": true,
	"INNER": true, "OUTER": true, "FULL": true, "CROSS": true, "ANY": true, "ALL": true,
	"ASOF": true, "SEMI": true, "ANTI": true, "GLOBAL": true, "LOCAL": true, "JOIN": true,
	"ON": true, "USING": true, "AS": true, "FORMAT": true, "SETTINGS": true, "INTO": true,
	"WITH": true, "PASTE": true, "NATURAL": true, "WINDOW": true, "QUALIFY": true,
	"OFFSET": true, "FETCH": true, "BY": true, "EXCEPT": true, "INTERSECT": true,
}

// clauseEnd lists words that end a FROM list.
var clauseEnd = map[string]bool{
	"WHERE": true, "PREWHERE": true, "GROUP": true, "ORDER": true, "LIMIT": true, "HAVING": true,
	"UNION": true, "FORMAT": true, "SETTINGS": true, "WINDOW": true, "QUALIFY": true,
	"OFFSET": true, "EXCEPT": true, "INTERSECT": true, "SELECT": true,
}

// keywords are skipped as operands unless called like a function.
var keywords = map[string]bool{
	"SELECT": true, "DISTINCT": true, "AND": true, "OR": true, "NOT": true, "BETWEEN": true,
	"LIKE": true, "ILIKE": true, "IS": true, "NULL": true, "CASE": true, "WHEN": true,
	"THEN": true, "ELSE": true, "END": true, "ASC": true, "DESC": true, "TOTALS": true,
	"INTERVAL": true, "ROLLUP": true, "CUBE": true, "TIES": true, "NULLS": true,
	"FIRST": true, "LAST": true, "COLLATE": true, "EXISTS": true,
}

// isKeyword reports words never taken as an alias.
func isKeyword(w string) bool {
	u := strings.ToUpper(w)
	return notAlias[u] || keywords[u] || clauseEnd[u] || u == "FROM" || u == "IN"
}

// inFuncs are the function forms of IN, whose second argument is a table.
var inFuncs = map[string]bool{
	"in": true, "notin": true, "globalin": true, "globalnotin": true, "nullin": true,
	"notnullin": true, "globalnullin": true, "globalnotnullin": true,
}

// forbiddenFunc reports functions that reach tables or dictionaries by a
// name given as a string (which the qualifier check cannot see), and the
// function forms of IN.
func forbiddenFunc(name string) bool {
	n := strings.ToLower(name)
	return strings.HasPrefix(n, "dict") || strings.HasPrefix(n, "joinget") ||
		n == "hascolumnintable" || n == "getsetting" || inFuncs[n]
}

// CheckReadCommand decides whether command may run as a read inside
// database db. It accepts one SELECT (or WITH ... SELECT, possibly in
// parentheses, UNION ALL allowed) and refuses, with a *CommandError:
// any other statement; a second statement; INTO; table functions; the
// dict*, joinGet, hasColumnInTable and notIn-style functions; a table
// named in FROM, JOIN or IN with a database other than db; and a dotted
// name a.b elsewhere whose a is neither db nor a table or alias the
// command introduces.
//
// The check is conservative: some valid queries are refused (tuple
// element access by name, lambda parameters used as x.y, Nested columns
// written a.b unquoted — quote them as `a.b`). It is not the only guard:
// the query also runs with readonly=1 and db as the connection's default
// database.
func CheckReadCommand(command, db string) error {
	_, err := checkRead(command, db, nil)
	return err
}

// checkRead is CheckReadCommand, reporting each table read in FROM or
// JOIN position (not IN) to ref when it is non-nil.
func checkRead(command, db string, ref func(tableRef)) ([]token, error) {
	toks, err := lex(command)
	if err != nil {
		return nil, err
	}
	// One statement, optionally ended by ';'.
	for i, t := range toks {
		if t.isPunct(";") {
			if i != len(toks)-1 {
				return nil, &CommandError{Pos: t.pos, Msg: "only one statement is allowed"}
			}
			toks = toks[:i]
		}
	}
	if len(toks) == 0 {
		return nil, &CommandError{Pos: 0, Msg: "command is empty"}
	}
	first := 0
	for first < len(toks) && toks[first].isPunct("(") {
		first++
	}
	if first == len(toks) || !(toks[first].isWord("SELECT") || toks[first].isWord("WITH")) {
		p := len(command)
		if first < len(toks) {
			p = toks[first].pos
		}
		return nil, &CommandError{Pos: p, Msg: "only SELECT statements can be run here"}
	}

	// Pass 1 collects the names the command introduces (tables, aliases);
	// pass 2 checks every dotted name against them.
	intro := map[string]bool{db: true}
	if err := walk(toks, db, func(name string) { intro[name] = true }, nil, nil); err != nil {
		return nil, err
	}
	return toks, walk(toks, db, func(string) {}, intro, ref)
}

// tableRef is a table read in FROM or JOIN position: tokens first..last
// name it (db.table or table), alias is the token index of its alias or
// -1, and join is true for a JOIN's table or one after a comma in a FROM
// list (the right side of a join).
type tableRef struct {
	first, last, alias int
	table              string
	join               bool
}

// walk runs over the tokens tracking table positions: the operand after
// FROM, JOIN and IN, after a comma in a FROM list, and every element of
// a parenthesised list after IN. It reports every name it introduces to
// introduce; with intro non-nil it also checks dotted names.
func walk(toks []token, db string, introduce func(string), intro map[string]bool, ref func(tableRef)) error {
	type level struct {
		inFrom   bool // commas here separate tables
		subquery bool // opened in table position: an alias may follow ')'
		inList   bool // opened after IN: its elements are IN's tables
	}
	stack := []level{{}}
	tablePos := false  // the next operand is a table
	aliasNext := false // the next bare or quoted name is an alias
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		top := &stack[len(stack)-1]
		wasTablePos, wasAlias := tablePos, aliasNext
		tablePos, aliasNext = false, false
		called := i+1 < len(toks) && toks[i+1].isPunct("(")
		dotted := i+1 < len(toks) && toks[i+1].isPunct(".")

		if wasAlias && t.isIdent() && !dotted && !called && !(t.kind == tokWord && isKeyword(t.text)) {
			introduce(t.text)
			continue
		}
		if t.kind == tokWord && !dotted {
			u := strings.ToUpper(t.text)
			switch u {
			case "INTO":
				return &CommandError{Pos: t.pos, Msg: "INTO is not allowed in a read"}
			case "FROM":
				top.inFrom = true
				top.inList = false // IN (SELECT ... FROM t): a subquery, not a list
				tablePos = true
				continue
			case "JOIN":
				// ARRAY JOIN takes array expressions, not tables.
				tablePos = !(i > 0 && toks[i-1].isWord("ARRAY"))
				continue
			case "IN":
				tablePos = true
				continue
			case "AS":
				aliasNext = true
				continue
			}
			if clauseEnd[u] {
				top.inFrom = false
			}
			if (notAlias[u] || keywords[u] || clauseEnd[u]) && !called {
				continue
			}
		}

		switch {
		case t.isPunct("("):
			// In table position: a subquery, or IN's list whose elements
			// are all treated as tables (IN (t) and IN ((t)) read table t).
			viaIn := wasTablePos && (top.inList || (i > 0 && toks[i-1].isWord("IN")))
			stack = append(stack, level{subquery: wasTablePos, inFrom: wasTablePos, inList: viaIn})
			tablePos = wasTablePos
			continue
		case t.isPunct(")"):
			if len(stack) > 1 {
				aliasNext = stack[len(stack)-1].subquery
				stack = stack[:len(stack)-1]
			}
			continue
		case t.isPunct(","):
			tablePos = top.inFrom
			continue
		case !t.isIdent():
			continue
		}

		// An identifier, possibly the head of a dotted chain.
		head := i
		chain := []token{t}
		for i+2 < len(toks) && toks[i+1].isPunct(".") && toks[i+2].isIdent() {
			chain = append(chain, toks[i+2])
			i += 2
		}
		afterJoin := head > 0 && toks[head-1].isWord("JOIN")
		if wasTablePos && i+1 < len(toks) && toks[i+1].isPunct(".") {
			return &CommandError{Pos: toks[i+1].pos, Msg: "malformed table name"}
		}
		if i+1 < len(toks) && toks[i+1].isPunct("(") {
			if len(chain) == 1 && forbiddenFunc(t.text) {
				return &CommandError{Pos: t.pos, Msg: fmt.Sprintf("function %s is not allowed in a read", t.text)}
			}
			if wasTablePos && (top.inFrom || afterJoin) {
				return &CommandError{Pos: t.pos, Msg: fmt.Sprintf("table function %s is not allowed", t.text)}
			}
			continue
		}
		if wasTablePos {
			switch len(chain) {
			case 1:
				introduce(t.text)
			case 2:
				if t.text != db {
					return &CommandError{Pos: t.pos, Msg: fmt.Sprintf("table %s.%s is in another database; only %s can be read", t.text, chain[1].text, db)}
				}
				introduce(chain[1].text)
			default:
				return &CommandError{Pos: t.pos, Msg: "a table name has at most two parts (database.table)"}
			}
			viaIn := head > 0 && toks[head-1].isWord("IN") || top.inList && !afterJoin
			if ref != nil && (top.inFrom || afterJoin) && !viaIn {
				r := tableRef{first: head, last: i, alias: -1, table: chain[len(chain)-1].text,
					join: afterJoin || (head > 0 && toks[head-1].isPunct(","))}
				a := i + 1
				if a < len(toks) && toks[a].isWord("AS") {
					a++
				}
				if a < len(toks) && toks[a].isIdent() && !(toks[a].kind == tokWord && isKeyword(toks[a].text)) &&
					!(a+1 < len(toks) && (toks[a+1].isPunct(".") || toks[a+1].isPunct("("))) {
					r.alias = a
				}
				ref(r)
			}
			aliasNext = top.inFrom || afterJoin
			continue
		}
		if intro != nil && len(chain) > 1 && !intro[t.text] {
			return &CommandError{Pos: t.pos, Msg: fmt.Sprintf("%s is neither database %s nor a table or alias of this query (quote a dotted column name as `a.b`)", t.text, db)}
		}
	}
	return nil
}
