// Syntax of the dnspc policy language (docs/language.md). Deliberately
// permissive where sema can say more than a parse error could: attributes,
// fields and option values are generic here and checked by name in sema,
// which can then answer "unknown attribute 'wieght'; did you mean 'weight'?".
parser grammar DnsPolicyParser;

options { tokenVocab = DnsPolicyLexer; }

policy: statement* EOF;

statement
    : listenStmt
    | aclStmt
    | endpointStmt
    | luaFileStmt
    | optionStmt
    | poolDecl
    | setDecl
    | ruleDecl
    | responseRuleDecl
    | dynblockDecl
    | xdpStmt
    ;

listenStmt: LISTEN endpoint (COMMA endpoint)* SEMI;
aclStmt: ACL netmaskList SEMI;
endpointStmt: kind=(CONSOLE | WEB) endpoint SEMI | kind=CONTROL STRING SEMI;
luaFileStmt: LUA STRING SEMI;
optionStmt: OPTION name=IDENT ASSIGN? value SEMI;
// The kernel fast path (docs/xdp.md): `xdp "eth0" mode native;`. Settings
// are generic here and checked by name in sema, as pool settings are.
xdpStmt: XDP STRING xdpSetting* SEMI;
xdpSetting: name=IDENT value;

// Pools and servers.
poolDecl: POOL name=IDENT LBRACE poolItem* RBRACE;
poolItem
    : POLICY name=IDENT SEMI                      # poolPolicy
    | POLICY LUA name=IDENT SEMI                  # poolLuaPolicy
    | SERVER endpoint serverAttr* SEMI            # poolServer
    | name=IDENT value? serverAttr* SEMI          # poolSetting  // cache 10000 max_ttl 1h;
    ;
serverAttr: name=attrName value (COMMA value)*;
attrName: IDENT | QPS;

// Named sets, inline or from a file.
setDecl: kind=(SUFFIXES | NAMES | NETMASKS | QTYPES) name=IDENT ASSIGN setBody SEMI;
setBody: LBRACE (value (COMMA value)* COMMA?)? RBRACE  # inlineSet
       | FILE STRING                                  # fileSet
       ;

// Rules.
ruleDecl: RULE name=IDENT COLON expr ARROW actionList SEMI;
responseRuleDecl: RESPONSE RULE name=IDENT COLON expr ARROW actionList SEMI;

expr
    : NOT expr                  # notExpr
    | expr AND expr             # andExpr
    | expr OR expr              # orExpr
    | LPAREN expr RPAREN        # parenExpr
    | predicate                 # predicateExpr
    ;

predicate
    : TRUE                                                          # truePred
    | FALSE                                                         # falsePred
    | QPS GT number (BURST INT)? (PER IDENT prefixLengths)?         # qpsPred
    | PROBABILITY number                                            # probabilityPred
    | TAGGED STRING                                                 # taggedPred
    | LUA name=IDENT                                                # luaPred
    | field SUFFIX STRING                                           # suffixPred
    | field TILDE REGEX                                             # regexPred
    | field IN setRef                                               # inPred
    | field op=(EQ | NE | LT | LE | GT | GE) value                   # comparePred
    | field                                                         # flagPred
    ;

field: fieldWord (DOT fieldWord)*;
// Some field words are keywords elsewhere (`rcode` the action, `option` and
// `response` statements); in a field they are names.
fieldWord: IDENT | RCODE_ACTION | OPTION | RESPONSE;
setRef: name=IDENT | netmask | LBRACE value (COMMA value)* COMMA? RBRACE;
prefixLengths: (SLASH INT (SLASH INT)?)?;
number: INT | FLOAT;

actionList: action+;
action
    : POOL name=IDENT                               # poolAction
    | DROP                                          # dropAction
    | REFUSE                                        # refuseAction
    | RCODE_ACTION name=IDENT                       # rcodeAction
    | TRUNCATE                                      # truncateAction
    | SPOOF spoofRecord (COMMA spoofRecord)* (TTL INT)?   # spoofAction
    | ALLOW                                         # allowAction
    | LUA name=IDENT                                # luaAction
    | TAG STRING                                    # tagModifier
    | LOG                                           # logModifier
    | DELAY DURATION                                # delayModifier
    | NO_RECURSE                                    # noRecurseModifier
    | SET_CD                                        # setCdModifier
    | NO_CACHE                                      # noCacheModifier
    | IDENT                                         # unknownAction
    ;
spoofRecord: type=IDENT value;

// Dynamic blocks: a per-source rate over a window, an action, a duration.
dynblockDecl
    : DYNBLOCK name=IDENT COLON measure GT number PER IDENT prefixLengths
      OVER DURATION ARROW action FOR DURATION (EXCEPT netmaskList)? SEMI
    ;
measure: IDENT IDENT?;

// Values.
endpoint: IPV4 (COLON INT)? | LBRACKET IPV6 RBRACKET (COLON INT)? | IPV6;
netmask: IPV4 (SLASH INT)? | IPV6 (SLASH INT)?;
netmaskList: netmask (COMMA netmask)*;
value
    : STRING
    | INT
    | FLOAT
    | DURATION
    | IDENT
    | DROP      // option values that are also actions
    | REFUSE
    | TRUE
    | FALSE
    | netmask
    | endpointValue
    ;
endpointValue: LBRACKET IPV6 RBRACKET (COLON INT)? | IPV4 COLON INT;
