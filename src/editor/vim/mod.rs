//! vim's normal and visual mode: the grammar that turns keys into commands
//! (`[count] ["x] operator [count] motion | text-object`, and the commands
//! of their own), and, in [`exec`], what a command does to a buffer.
//!
//! The grammar is a pure state machine: it takes one [`Key`] at a time and
//! answers [`Parsed::Pending`] until a command is complete. A sequence that
//! means nothing is dropped whole ([`Parsed::Invalid`]) without effect.
//! Knows nothing of the terminal: the pane turns its keys into [`Key`]s.

mod edit;
pub(crate) mod exec;
mod motion;
mod objects;
mod registers;
#[cfg(test)]
mod tests;

pub(crate) use exec::{Effect, InsertKey, Vim, VimMode, Window};
pub(crate) use registers::Marks;

/// A key as the grammar reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Key {
    Char(char),
    /// A control chord: `Ctrl('v')` is ctrl-v.
    Ctrl(char),
    Esc,
    Enter,
    Backspace,
    Left,
    Right,
    Up,
    Down,
}

impl Key {
    /// Keys written in vim's notation: `d2w`, `ciwx<Esc>`, `<C-v>jd`
    /// (`<Esc>`, `<CR>`, `<BS>`, `<C-x>`, `<lt>` for a `<`). A `<` that
    /// starts no such name is the key `<`.
    #[cfg(test)]
    pub(crate) fn parse_notation(text: &str) -> Vec<Key> {
        let mut keys = Vec::new();
        let mut rest = text;
        while let Some(c) = rest.chars().next() {
            if c == '<'
                && let Some(end) = rest.find('>')
                && let Some(key) = Key::from_vim_name(&rest[1..end])
            {
                keys.push(key);
                rest = &rest[end + 1..];
                continue;
            }
            keys.push(Key::Char(c));
            rest = &rest[c.len_utf8()..];
        }
        keys
    }

    #[cfg(test)]
    fn from_vim_name(name: &str) -> Option<Key> {
        Some(match name {
            "Esc" => Key::Esc,
            "CR" => Key::Enter,
            "BS" => Key::Backspace,
            "lt" => Key::Char('<'),
            "Left" => Key::Left,
            "Right" => Key::Right,
            "Up" => Key::Up,
            "Down" => Key::Down,
            _ => {
                let c = name.strip_prefix("C-")?;
                let mut chars = c.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) => Key::Ctrl(c.to_ascii_lowercase()),
                    _ => return None,
                }
            }
        })
    }

    /// A key as keymap files name it: `d`, `ctrl-v`, `esc`, `space`.
    pub(crate) fn from_label(label: &str) -> Option<Key> {
        Some(match label {
            "esc" => Key::Esc,
            "enter" => Key::Enter,
            "backspace" => Key::Backspace,
            "left" => Key::Left,
            "right" => Key::Right,
            "up" => Key::Up,
            "down" => Key::Down,
            "space" => Key::Char(' '),
            _ => {
                let (ctrl, rest) = match label.strip_prefix("ctrl-") {
                    Some(rest) => (true, rest),
                    None => (false, label),
                };
                let mut chars = rest.chars();
                let c = match (chars.next(), chars.next()) {
                    (Some(c), None) => c,
                    _ => return None,
                };
                if ctrl { Key::Ctrl(c) } else { Key::Char(c) }
            }
        })
    }
}

/// Where a cursor goes. Counts come with the command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Motion {
    Left,
    Right,
    Down,
    Up,
    /// `w` / `W`
    WordForward {
        big: bool,
    },
    /// `b` / `B`
    WordBackward {
        big: bool,
    },
    /// `e` / `E`
    WordEnd {
        big: bool,
    },
    /// `0`
    LineStart,
    /// `^`
    FirstNonBlank,
    /// `$`
    LineEnd,
    /// `gg`: the first line, or line count.
    FirstLine,
    /// `G`: the last line, or line count.
    LastLine,
    /// `f` `F` `t` `T` and the character.
    Find(Find, char),
    /// `;` (same direction) and `,` (reversed).
    RepeatFind {
        reverse: bool,
    },
    /// `%`
    MatchPair,
    /// `}` and `{`
    Paragraph {
        forward: bool,
    },
    /// `H` `M` `L`
    Window(WindowRow),
    /// `n` and `N`
    SearchNext {
        reverse: bool,
    },
    /// `*` and `#`: the word under the cursor.
    SearchWord {
        forward: bool,
    },
    /// `'x` (line) and `` `x `` (exact position).
    Mark {
        name: char,
        exact: bool,
    },
}

/// The four character searches of a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Find {
    /// `f`: onto the character.
    Forward,
    /// `F`
    Backward,
    /// `t`: just before it.
    TillForward,
    /// `T`
    TillBackward,
}

impl Find {
    fn reversed(self) -> Find {
        match self {
            Find::Forward => Find::Backward,
            Find::Backward => Find::Forward,
            Find::TillForward => Find::TillBackward,
            Find::TillBackward => Find::TillForward,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WindowRow {
    Top,
    Middle,
    Bottom,
}

/// A text object: `iw aw iW aW i" a" i' a' i( a( i{ a{ i[ a[ i< a< it at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Object {
    Word {
        big: bool,
        around: bool,
    },
    Quote {
        quote: char,
        around: bool,
    },
    Pair {
        open: char,
        close: char,
        around: bool,
    },
    Tag {
        around: bool,
    },
}

/// What an operator does to the text it is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Operator {
    Delete,
    Change,
    Yank,
    Indent,
    Outdent,
    Lower,
    Upper,
    ToggleCase,
}

/// What an operator works on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    Motion(Motion),
    Object(Object),
    /// The doubled operator (`dd`, `>>`, `gUU`): count lines.
    Lines,
}

/// How `i a I A o O` enter insert mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum InsertAt {
    Before,
    After,
    LineStart,
    LineEnd,
    LineBelow,
    LineAbove,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum VisualKind {
    Char,
    Line,
    Block,
}

/// `zt`, `zz`, `zb`: where the cursor's line goes in the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ScrollTo {
    Top,
    Center,
    Bottom,
}

/// What a complete key sequence asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    Move(Motion),
    Operate(Operator, Target),
    /// In visual mode: an operator on the selection; `lines` when the
    /// command works on whole lines whatever the selection (`D X Y C S R`).
    OperateSelection {
        op: Operator,
        lines: bool,
    },
    /// In visual mode, a text object extends the selection.
    SelectObject(Object),
    /// `p` and `P`.
    Put {
        before: bool,
    },
    /// `r` and the character.
    ReplaceChar(char),
    /// `J`
    Join,
    /// `~` in normal mode: toggle the case of count characters and move on.
    ToggleCaseChars,
    Insert(InsertAt),
    Undo,
    Redo,
    /// `.`
    Repeat,
    Visual(VisualKind),
    /// `o` in visual mode: the cursor goes to the other end.
    SwapEnds,
    /// `I` and `A` on a block (`ctrl-v`) selection.
    BlockInsert {
        append: bool,
    },
    Scroll(ScrollTo),
    /// `m` and a letter.
    SetMark(char),
    /// `Esc`: cancels, or leaves visual mode.
    Escape,
}

impl Action {
    /// Whether the action may change the text (refused in a read-only
    /// workspace).
    pub(crate) fn changes(self) -> bool {
        match self {
            Action::Operate(op, _) | Action::OperateSelection { op, .. } => op != Operator::Yank,
            Action::Put { .. }
            | Action::ReplaceChar(_)
            | Action::Join
            | Action::ToggleCaseChars
            | Action::Insert(_)
            | Action::Undo
            | Action::Redo
            | Action::Repeat
            | Action::BlockInsert { .. } => true,
            Action::Move(_)
            | Action::SelectObject(_)
            | Action::Visual(_)
            | Action::SwapEnds
            | Action::Scroll(_)
            | Action::SetMark(_)
            | Action::Escape => false,
        }
    }
}

/// A complete command: the register, the count (the product of the counts
/// before and after an operator) and what to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Command {
    pub register: Option<char>,
    pub count: Option<usize>,
    pub action: Action,
}

/// The grammar's answer to one more key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Parsed {
    /// The keys so far start a command: wait for the next.
    Pending,
    Done(Command),
    /// The keys mean nothing; they are dropped.
    Invalid,
}

/// The keys typed so far in normal or visual mode.
#[derive(Debug, Clone, Default)]
pub(crate) struct Grammar {
    keys: Vec<Key>,
}

/// The longest sane count; more is taken as this many.
const MAX_COUNT: usize = 999_999;

impl Grammar {
    /// Whether a command is half typed (a count, a register, an operator):
    /// the next key belongs to it.
    pub(crate) fn is_pending(&self) -> bool {
        !self.keys.is_empty()
    }

    /// Drops the keys typed so far.
    pub(crate) fn clear(&mut self) {
        self.keys.clear();
    }

    /// Takes one more key; `visual` when a selection is being made.
    pub(crate) fn push(&mut self, key: Key, visual: bool) -> Parsed {
        self.keys.push(key);
        let parsed = parse(&self.keys, visual);
        if parsed != Parsed::Pending {
            self.keys.clear();
        }
        parsed
    }
}

/// A cursor over the keys of one command; `None` from [`Reader::next`]
/// means the command is not complete yet.
struct Reader<'a> {
    keys: &'a [Key],
    at: usize,
}

enum Step<T> {
    Ok(T),
    Pending,
    Invalid,
}

macro_rules! take {
    ($e:expr) => {
        match $e {
            Step::Ok(v) => v,
            Step::Pending => return Parsed::Pending,
            Step::Invalid => return Parsed::Invalid,
        }
    };
}

impl Reader<'_> {
    fn next(&mut self) -> Step<Key> {
        match self.keys.get(self.at) {
            Some(key) => {
                self.at += 1;
                Step::Ok(*key)
            }
            None => Step::Pending,
        }
    }

    fn peek(&self) -> Option<Key> {
        self.keys.get(self.at).copied()
    }

    /// A count, if one is typed here (a count never starts with `0`).
    fn count(&mut self) -> Option<usize> {
        let mut count: Option<usize> = None;
        while let Some(Key::Char(c)) = self.peek() {
            let Some(digit) = c.to_digit(10) else { break };
            if digit == 0 && count.is_none() {
                break;
            }
            count = Some(
                count
                    .unwrap_or(0)
                    .saturating_mul(10)
                    .saturating_add(digit as usize)
                    .min(MAX_COUNT),
            );
            self.at += 1;
        }
        count
    }

    /// A typed character (for `f`, `r`, `m`, a register name).
    fn char(&mut self) -> Step<char> {
        match self.next() {
            Step::Ok(Key::Char(c)) => Step::Ok(c),
            Step::Ok(Key::Enter) => Step::Ok('\n'),
            Step::Ok(_) => Step::Invalid,
            Step::Pending => Step::Pending,
            Step::Invalid => Step::Invalid,
        }
    }
}

fn is_register(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '"' | '-' | '_' | '+' | '*')
}

fn multiply(a: Option<usize>, b: Option<usize>) -> Option<usize> {
    match (a, b) {
        (None, None) => None,
        (a, b) => Some(a.unwrap_or(1).saturating_mul(b.unwrap_or(1)).min(MAX_COUNT)),
    }
}

fn parse(keys: &[Key], visual: bool) -> Parsed {
    let mut r = Reader { keys, at: 0 };
    let mut register = None;
    let mut count = None;
    // A register and a count, in either order.
    for _ in 0..2 {
        if r.peek() == Some(Key::Char('"')) {
            r.at += 1;
            let name = take!(r.char());
            if !is_register(name) {
                return Parsed::Invalid;
            }
            register = Some(name);
        }
        if let Some(n) = r.count() {
            count = multiply(count, Some(n));
        }
    }
    let key = take!(r.next());
    let done = |count, action| {
        Parsed::Done(Command {
            register,
            count,
            action,
        })
    };
    if key == Key::Esc {
        return done(None, Action::Escape);
    }
    if let Some(op) = take!(operator(&mut r, key)) {
        if visual {
            return done(count, Action::OperateSelection { op, lines: false });
        }
        let count2 = r.count();
        let count = multiply(count, count2);
        let next = take!(r.next());
        if doubled(op, next, &mut r) {
            return done(count, Action::Operate(op, Target::Lines));
        }
        if let Key::Char(c @ ('i' | 'a')) = next {
            let object = take!(object(&mut r, c == 'a'));
            return done(count, Action::Operate(op, Target::Object(object)));
        }
        return match take!(motion(&mut r, next)) {
            Some(m) => done(count, Action::Operate(op, Target::Motion(m))),
            None => Parsed::Invalid,
        };
    }
    if let Some(m) = take!(motion(&mut r, key)) {
        return done(count, Action::Move(m));
    }
    let action = if visual {
        take!(visual_command(&mut r, key))
    } else {
        take!(normal_command(&mut r, key))
    };
    match action {
        Some(Shorthand::Action(action)) => done(count, action),
        Some(Shorthand::Operate(op, m)) => done(count, Action::Operate(op, Target::Motion(m))),
        Some(Shorthand::Lines(op)) => done(count, Action::Operate(op, Target::Lines)),
        None => Parsed::Invalid,
    }
}

/// What the next key of an operator is when it doubles it: `dd`, `cc`,
/// `guu`/`gugu`, `gUU`/`gUgU`, `g~~`/`g~g~`.
fn doubled(op: Operator, key: Key, r: &mut Reader) -> bool {
    match (op, key) {
        (Operator::Delete, Key::Char('d'))
        | (Operator::Change, Key::Char('c'))
        | (Operator::Yank, Key::Char('y'))
        | (Operator::Indent, Key::Char('>'))
        | (Operator::Outdent, Key::Char('<'))
        | (Operator::Lower, Key::Char('u'))
        | (Operator::Upper, Key::Char('U'))
        | (Operator::ToggleCase, Key::Char('~')) => true,
        (Operator::Lower | Operator::Upper | Operator::ToggleCase, Key::Char('g')) => {
            let second = r.peek();
            let matches = matches!(
                (op, second),
                (Operator::Lower, Some(Key::Char('u')))
                    | (Operator::Upper, Some(Key::Char('U')))
                    | (Operator::ToggleCase, Some(Key::Char('~')))
            );
            if matches {
                r.at += 1;
            }
            matches
        }
        _ => false,
    }
}

/// An operator key (`d c y > <`, `g` then `u U ~`); `Ok(None)` for any
/// other key.
fn operator(r: &mut Reader, key: Key) -> Step<Option<Operator>> {
    Step::Ok(Some(match key {
        Key::Char('d') => Operator::Delete,
        Key::Char('c') => Operator::Change,
        Key::Char('y') => Operator::Yank,
        Key::Char('>') => Operator::Indent,
        Key::Char('<') => Operator::Outdent,
        Key::Char('g') => match r.peek() {
            // `g` alone: an operator or `gg`; wait for the next key.
            None => return Step::Pending,
            Some(Key::Char('u')) => {
                r.at += 1;
                Operator::Lower
            }
            Some(Key::Char('U')) => {
                r.at += 1;
                Operator::Upper
            }
            Some(Key::Char('~')) => {
                r.at += 1;
                Operator::ToggleCase
            }
            Some(_) => return Step::Ok(None),
        },
        _ => return Step::Ok(None),
    }))
}

fn motion(r: &mut Reader, key: Key) -> Step<Option<Motion>> {
    let find = |r: &mut Reader, kind| match r.char() {
        Step::Ok(c) => Step::Ok(Some(Motion::Find(kind, c))),
        Step::Pending => Step::Pending,
        Step::Invalid => Step::Invalid,
    };
    Step::Ok(Some(match key {
        Key::Char('h') | Key::Left | Key::Backspace => Motion::Left,
        Key::Char('l') | Key::Right | Key::Char(' ') => Motion::Right,
        Key::Char('j') | Key::Down | Key::Ctrl('n') => Motion::Down,
        Key::Char('k') | Key::Up | Key::Ctrl('p') => Motion::Up,
        Key::Char('w') => Motion::WordForward { big: false },
        Key::Char('W') => Motion::WordForward { big: true },
        Key::Char('b') => Motion::WordBackward { big: false },
        Key::Char('B') => Motion::WordBackward { big: true },
        Key::Char('e') => Motion::WordEnd { big: false },
        Key::Char('E') => Motion::WordEnd { big: true },
        Key::Char('0') => Motion::LineStart,
        Key::Char('^') => Motion::FirstNonBlank,
        Key::Char('$') => Motion::LineEnd,
        Key::Char('G') => Motion::LastLine,
        Key::Char('g') => match r.next() {
            Step::Ok(Key::Char('g')) => Motion::FirstLine,
            Step::Ok(_) => return Step::Ok(None),
            Step::Pending => return Step::Pending,
            Step::Invalid => return Step::Invalid,
        },
        Key::Char('f') => return find(r, Find::Forward),
        Key::Char('F') => return find(r, Find::Backward),
        Key::Char('t') => return find(r, Find::TillForward),
        Key::Char('T') => return find(r, Find::TillBackward),
        Key::Char(';') => Motion::RepeatFind { reverse: false },
        Key::Char(',') => Motion::RepeatFind { reverse: true },
        Key::Char('%') => Motion::MatchPair,
        Key::Char('}') => Motion::Paragraph { forward: true },
        Key::Char('{') => Motion::Paragraph { forward: false },
        Key::Char('H') => Motion::Window(WindowRow::Top),
        Key::Char('M') => Motion::Window(WindowRow::Middle),
        Key::Char('L') => Motion::Window(WindowRow::Bottom),
        Key::Char('n') => Motion::SearchNext { reverse: false },
        Key::Char('N') => Motion::SearchNext { reverse: true },
        Key::Char('*') => Motion::SearchWord { forward: true },
        Key::Char('#') => Motion::SearchWord { forward: false },
        Key::Char(quote @ ('\'' | '`')) => match r.char() {
            Step::Ok(name) if name.is_ascii_lowercase() => Motion::Mark {
                name,
                exact: quote == '`',
            },
            Step::Ok(_) | Step::Invalid => return Step::Invalid,
            Step::Pending => return Step::Pending,
        },
        _ => return Step::Ok(None),
    }))
}

fn object(r: &mut Reader, around: bool) -> Step<Object> {
    let c = match r.char() {
        Step::Ok(c) => c,
        Step::Pending => return Step::Pending,
        Step::Invalid => return Step::Invalid,
    };
    let pair = |open, close| Object::Pair {
        open,
        close,
        around,
    };
    Step::Ok(match c {
        'w' => Object::Word { big: false, around },
        'W' => Object::Word { big: true, around },
        '"' | '\'' | '`' => Object::Quote { quote: c, around },
        '(' | ')' | 'b' => pair('(', ')'),
        '{' | '}' | 'B' => pair('{', '}'),
        '[' | ']' => pair('[', ']'),
        '<' | '>' => pair('<', '>'),
        't' => Object::Tag { around },
        _ => return Step::Invalid,
    })
}

/// A command that is a shorthand of an operator, or an action of its own.
enum Shorthand {
    Action(Action),
    Operate(Operator, Motion),
    Lines(Operator),
}

fn normal_command(r: &mut Reader, key: Key) -> Step<Option<Shorthand>> {
    use Shorthand::{Action as A, Lines, Operate};
    Step::Ok(Some(match key {
        Key::Char('x') => Operate(Operator::Delete, Motion::Right),
        Key::Char('X') => Operate(Operator::Delete, Motion::Left),
        Key::Char('D') => Operate(Operator::Delete, Motion::LineEnd),
        Key::Char('C') => Operate(Operator::Change, Motion::LineEnd),
        Key::Char('s') => Operate(Operator::Change, Motion::Right),
        Key::Char('S') => Lines(Operator::Change),
        Key::Char('Y') => Lines(Operator::Yank),
        Key::Char('p') => A(Action::Put { before: false }),
        Key::Char('P') => A(Action::Put { before: true }),
        Key::Char('J') => A(Action::Join),
        Key::Char('~') => A(Action::ToggleCaseChars),
        Key::Char('i') => A(Action::Insert(InsertAt::Before)),
        Key::Char('a') => A(Action::Insert(InsertAt::After)),
        Key::Char('I') => A(Action::Insert(InsertAt::LineStart)),
        Key::Char('A') => A(Action::Insert(InsertAt::LineEnd)),
        Key::Char('o') => A(Action::Insert(InsertAt::LineBelow)),
        Key::Char('O') => A(Action::Insert(InsertAt::LineAbove)),
        Key::Char('u') => A(Action::Undo),
        Key::Ctrl('r') => A(Action::Redo),
        Key::Char('.') => A(Action::Repeat),
        Key::Char('v') => A(Action::Visual(VisualKind::Char)),
        Key::Char('V') => A(Action::Visual(VisualKind::Line)),
        Key::Ctrl('v') => A(Action::Visual(VisualKind::Block)),
        Key::Char('r') => match r.char() {
            Step::Ok(c) => A(Action::ReplaceChar(c)),
            Step::Pending => return Step::Pending,
            Step::Invalid => return Step::Invalid,
        },
        Key::Char('m') => match r.char() {
            Step::Ok(c) if c.is_ascii_lowercase() => A(Action::SetMark(c)),
            Step::Ok(_) | Step::Invalid => return Step::Invalid,
            Step::Pending => return Step::Pending,
        },
        Key::Char('z') => match r.next() {
            Step::Ok(Key::Char('t') | Key::Enter) => A(Action::Scroll(ScrollTo::Top)),
            Step::Ok(Key::Char('z' | '.')) => A(Action::Scroll(ScrollTo::Center)),
            Step::Ok(Key::Char('b' | '-')) => A(Action::Scroll(ScrollTo::Bottom)),
            Step::Ok(_) | Step::Invalid => return Step::Invalid,
            Step::Pending => return Step::Pending,
        },
        _ => return Step::Ok(None),
    }))
}

fn visual_command(r: &mut Reader, key: Key) -> Step<Option<Shorthand>> {
    use Shorthand::Action as A;
    let on_selection = |op, lines| A(Action::OperateSelection { op, lines });
    Step::Ok(Some(match key {
        Key::Char('x') => on_selection(Operator::Delete, false),
        Key::Char('s') => on_selection(Operator::Change, false),
        Key::Char('X' | 'D') => on_selection(Operator::Delete, true),
        Key::Char('C' | 'S' | 'R') => on_selection(Operator::Change, true),
        Key::Char('Y') => on_selection(Operator::Yank, true),
        Key::Char('u') => on_selection(Operator::Lower, false),
        Key::Char('U') => on_selection(Operator::Upper, false),
        Key::Char('~') => on_selection(Operator::ToggleCase, false),
        Key::Char('p') => A(Action::Put { before: false }),
        Key::Char('P') => A(Action::Put { before: true }),
        Key::Char('J') => A(Action::Join),
        Key::Char('o' | 'O') => A(Action::SwapEnds),
        Key::Char('I') => A(Action::BlockInsert { append: false }),
        Key::Char('A') => A(Action::BlockInsert { append: true }),
        Key::Char('v') => A(Action::Visual(VisualKind::Char)),
        Key::Char('V') => A(Action::Visual(VisualKind::Line)),
        Key::Ctrl('v') => A(Action::Visual(VisualKind::Block)),
        Key::Char(c @ ('i' | 'a')) => match object(r, c == 'a') {
            Step::Ok(object) => A(Action::SelectObject(object)),
            Step::Pending => return Step::Pending,
            Step::Invalid => return Step::Invalid,
        },
        Key::Char('r') => match r.char() {
            Step::Ok(c) => A(Action::ReplaceChar(c)),
            Step::Pending => return Step::Pending,
            Step::Invalid => return Step::Invalid,
        },
        _ => return Step::Ok(None),
    }))
}
