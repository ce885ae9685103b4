// Tokens of the dnspc policy language (docs/language.md).
// A separate lexer grammar because regex literals need their own mode: after
// `~` the next `/.../` is a regex, anywhere else `/` is a prefix length.
lexer grammar DnsPolicyLexer;

// Statements and sections.
LISTEN: 'listen';
ACL: 'acl';
CONSOLE: 'console';
WEB: 'web';
CONTROL: 'control';
LUA: 'lua';
OPTION: 'option';
POOL: 'pool';
SERVER: 'server';
POLICY: 'policy';
RULE: 'rule';
RESPONSE: 'response';
DYNBLOCK: 'dynblock';
SUFFIXES: 'suffixes';
NAMES: 'names';
NETMASKS: 'netmasks';
QTYPES: 'qtypes';
FILE: 'file';
XDP: 'xdp';

// Expressions.
AND: 'and';
OR: 'or';
NOT: 'not';
IN: 'in';
SUFFIX: 'suffix';
TRUE: 'true';
FALSE: 'false';
QPS: 'qps';
BURST: 'burst';
PER: 'per';
PROBABILITY: 'probability';
TAGGED: 'tagged';

// Actions and modifiers.
DROP: 'drop';
REFUSE: 'refuse';
RCODE_ACTION: 'rcode';
TRUNCATE: 'truncate';
SPOOF: 'spoof';
ALLOW: 'allow';
TAG: 'tag';
LOG: 'log';
DELAY: 'delay';
NO_RECURSE: 'no_recurse';
SET_CD: 'set_cd';
NO_CACHE: 'no_cache';
TTL: 'ttl';

// Dynamic blocks.
OVER: 'over';
FOR: 'for';
EXCEPT: 'except';

ARROW: '=>';
EQ: '==';
NE: '!=';
LE: '<=';
GE: '>=';
LT: '<';
GT: '>';
ASSIGN: '=';
TILDE: '~' -> pushMode(REGEX_MODE);
LBRACE: '{';
RBRACE: '}';
LPAREN: '(';
RPAREN: ')';
LBRACKET: '[';
RBRACKET: ']';
COMMA: ',';
SEMI: ';';
COLON: ':';
SLASH: '/';
DOT: '.';

// Addresses: an IPv4 dotted quad; an IPv6 address has at least two colons.
// Ports and prefix lengths are separate tokens (`:` INT, `/` INT).
IPV4: DIGIT+ '.' DIGIT+ '.' DIGIT+ '.' DIGIT+;
IPV6: HEX* ':' HEX* ':' (HEX | ':' | '.')*;

DURATION: DIGIT+ ('ms' | 's' | 'm' | 'h' | 'd');
FLOAT: DIGIT+ '.' DIGIT+;
INT: DIGIT+;
STRING: '"' (~["\\\r\n] | '\\' .)* '"';
IDENT: [a-zA-Z_] [a-zA-Z0-9_-]*;

COMMENT: '#' ~[\r\n]* -> skip;
WS: [ \t\r\n]+ -> skip;

// Anything else is one bad character, reported by the parser with its place.
UNEXPECTED_CHAR: .;

fragment DIGIT: [0-9];
fragment HEX: [0-9a-fA-F];

mode REGEX_MODE;
REGEX_WS: [ \t]+ -> skip;
REGEX: '/' ('\\' ~[\r\n] | ~[/\\\r\n])* '/' -> popMode;
// No regex after `~`: leave the mode and let the parser complain.
REGEX_MISSING: . -> popMode;
