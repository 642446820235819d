"""Cue phrases for the rule classifier: per behavior and cue kind, (anchors, regex) pairs.

Each regex is tried only *at* the positions of its anchor words (`pattern.match(text, position)`), so it
starts with the anchor; context before the anchor is a fixed-width look-behind built by `after`. Texts are
lower-cased, blank runs collapsed to one space and curly apostrophes straightened before matching, so a space
here is one space. Every pattern is bounded, which keeps matching linear on adversarial input. `(\\d+)`
captures the value a cue names (a subgoal, a needed number).
"""

from __future__ import annotations

Cue = tuple[str, str]

NUM = r"(?<![\d.])(\d+)"  # a whole number, captured; the look-behind keeps runs of digits linear
GAP = r"[^.!?\n\d]{0,40}"  # a short phrase with no number and no sentence end
OPS = r"[-+*/×÷−x]"


def after(*words: str) -> str:
    """A look-behind: the anchor follows one of `words` and a space."""
    # A word boundary before each word: "get back" must not fire inside "target back".
    return "(?:" + "|".join(f"(?<={chr(92) + 'b' if w[:1].isalnum() else ''}{w} )" for w in words) + ")"


# --- verification: an explicit comparison of a result with the goal -----------------------------------------
#: A result judged against the goal: (in)equality with the target, too high/low, "this works", a check mark.
VERIFY_RESULT: list[Cue] = [
    ("≠ ✓ ✔ ✅ ✗ ✘ ❌ ☑", r"[≠✓✔✅✗✘❌☑]"),
    ("!= =/=", r"!=|=/="),
    (
        "not",
        r"not (?:(?:equal to |equal |the |our )?(?:target|goal|\(?\d)"
        r"(?! (?:of|numbers?|times|more|ways|all|only)\b)"
        r"|equals?\b|quite\b|match\b)",
    ),
    # "= 275, no." / "= 24. No." judges the result just given.
    ("no nope", r"(?:(?<=[\d.!?,;] )|(?<=[\d.!?,;\n]))(?:no|nope)(?=[.!]|$)|no match\b"),
    (
        "isn't wasn't aren't doesn't don't",
        r"(?:is|was|are|does|do)n't (?:equal to |equal |quite |match |reach |hit )?"
        r"(?:the |our )?(?:target|goal|\d)"
        r"|doesn't match\b",
    ),
    ("too", r"too (?:high|low|big|small|large|much|little|far)\b"),
    (
        "overshoot overshoots overshooting overshot undershoot undershoots undershooting short",
        r"(?:over|under)shoot|overshot\b|(?:(?<=falls )|(?<=fall ))short\b"
        r"|short (?:of (?:the |our )?(?:target|goal|\d)|by \d)",
    ),
    ("off over under", r"(?:off|over|under) by \d"),
    ("miss misses missed", r"miss(?:es|ed)? (?:(?:the target |\d+ )?by \d|(?:the |our )(?:target|goal)\b)"),
    # "3 away from 24." but not "taking 8 away from 19 leaves 11" (subtraction, not a comparison).
    ("away", r"away from (?:the |our )?(?:target|goal)\b|(?<=\d )away from \d+ ?(?:[.!;]|$)"),
    (
        "than",
        after("higher", "lower", "bigger", "smaller", "larger", "greater", "more", "less")
        + r"than (?:the |our )?(?:target|goal\b|\d)(?!\d* (?:numbers?|of|times|operations?|ways)\b)",
    ),
    ("exceed exceeds exceeded", r"exceed(?:s|ed)? (?:the |our )?(?:target|goal|\d)"),
    (
        "compare compares compared comparing",
        r"compar(?:e|es|ed|ing)(?: it| this| that| the result)? (?:with|to|against) "
        r"(?:the |our )?(?:target|goal)",
    ),
    ("vs", r"(?<=\d )vs\.? \d"),
    (
        "equals matches hits reaches gives",
        r"(?<!expression that )(?<!equation that )"
        + after(r"\d", r"\)", "result", "this", "that", "it", "which")
        + r"(?:equals|matches|hits|reaches|gives us) (?:exactly |precisely )?(?:the|our) (?:target|goal)",
    ),
    (
        "target goal",
        after(
            *(
                f"{v} {adv}{det}"
                for v in ("is", "'s", "was")
                for adv in ("", "exactly ", "precisely ", "indeed ", "also ")
                for det in ("the", "our")
            )
        )
        + r"(?:target|goal)\b(?! (?:is|number is|of)\b)",
    ),
    (
        "reached hit got made found",
        after("we've", "we have", "i've", "i have", "finally")
        + r"(?:reached|hit|got|made|found) (?:the |our )?"
        r"(?:target|goal)\b",
    ),
    ("works worked", after("that", "this", "it", "which") + r"work(?:s|ed)\b(?! out)"),
    ("check checks", r"checks? out\b"),
    ("got that's bingo perfect", r"got it\b|that's it\b|bingo\b|perfect\b(?! square)"),
    (
        "correct right valid",
        after("is", "'s", "looks", "seems", "are", "is all", "is also", "is indeed", "'s also")
        + r"(?:correct|right|valid)\b",
    ),
    ("correct", r"(?:^|(?<=[,;:(.!?\n])|(?<=[,;:(.!?] )|(?<=yes ))correct\b"),
    (
        "exactly precisely",
        after("gives", "is", "'s", "equals", "get", "got", "yields", "makes", "gives us", "get us")
        + r"(?:exactly|precisely) (?:the )?\d",
    ),
    (
        "asked after looking planned required desired",
        r"(?<=we were )(?:asked for|after|looking for)\b|(?<=as )(?:planned|required|desired)\b",
    ),
    (
        "wanted needed precisely",
        r"(?:(?<=\d we )|(?<=\d i ))(?:wanted|needed)\b|precisely the \d+ (?:wanted|needed)\b",
    ),
]
#: Announcing a check ("let me verify"): counts only next to a number, or absorbed by the result it announces.
VERIFY_ANNOUNCE: list[Cue] = [
    (
        (
            "check checks checked checking doublecheck verify verifies verified verifying verification "
            "confirm confirms confirmed confirming"
        ),
        r"(?:doublecheck|check(?:s|ed|ing)?|verif(?:y|ies|ied|ying|ication)|confirm(?:s|ed|ing)?)\b"
        r"(?! (?:if|whether) (?:we|i) (?:can|could)\b)",
    ),
    ("see", after("let me", "let's") + r"see if (?:this|that|it) (?:works|gives)"),
]

# --- backtracking: abandoning a path and going back ---------------------------------------------------------
#: Abandoning a path or returning to an earlier state: counts wherever it appears.
BACKTRACK_STRONG: list[Cue] = [
    ("dead deadend deadends", r"dead[- ]?ends?\b"),
    ("scrap undo", r"scrap (?:that|this|it)\b|undo\b"),
    (
        "abandon abandons abandoned abandoning backtrack backtracks backtracked backtracking",
        r"abandon|backtrack",
    ),
    (
        "nowhere",
        after("leads", "lead", "leading", "goes", "going", "go", "got", "gets", "getting", "us")
        + r"nowhere\b",
    ),
    (
        "doesn't didn't don't isn't aren't wasn't wouldn't won't couldn't",
        r"(?:does|did|do|is|are|was|would|wo|could)n't (?:going to |seem to |quite )?"
        r"(?:work|works|working|worked|help|lead anywhere|get us anywhere)\b",
    ),
    (
        "not",
        r"not (?:going to |gonna |seem to )?(?:work|works|working|helpful|useful|help|going anywhere"
        r"|leading anywhere|get us anywhere)\b",
    ),
    ("good luck dice nothing", r"(?<=no )(?:good|luck|dice)\b|nothing works\b"),
    ("start starting started", r"start(?:ing|ed)? (?:over|again|afresh|anew|from scratch)\b"),
    ("restart restarts restarting restarted", r"restart(?:s|ing|ed)?\b"),
    ("drop dropping", r"drop(?:ping)? (?:this|that|the) (?:attempt|idea|path|approach|line|branch)\b"),
    (
        "back",
        after("go", "goes", "going", "went", "come", "coming", "head", "heading", "get", "getting")
        + r"back\b(?! (?:one|a|another) (?:more )?(?:step|level)| further\b)"
        r"|back (?:up )?to (?:the |our |my )?(?:start|beginning|original|drawing board|square one|initial"
        r"|previous"
        r"|earlier|first|numbers|\d)|back (?:up|out)\b|(?:(?<=step )|(?<=stepping ))back to\b",
    ),
    (
        "return returns returned returning revert reverts reverted reverting",
        r"return(?:s|ed|ing)? to\b|revert",
    ),
    ("second never nevermind", r"(?<=on )second thought\b|never ?mind\b"),
    ("rethink reconsider", after("let me", "let's", "i should", "we should") + r"(?:rethink|reconsider)\b"),
    ("wrong give", r"wrong (?:approach|path|direction|track|way|turn)\b|give up on (?:that|this)\b"),
    (
        "fails failed",
        after("that", "this", "it", "which", "approach", "path", "branch", "attempt") + r"fail(?:s|ed)\b",
    ),
    ("rewind retreat", r"rewind\b|retreat to\b"),
]
NOUNS = (
    "approach",
    "strategy",
    "combination",
    "way",
    "idea",
    "option",
    "path",
    "route",
    "method",
    "tack",
    "order",
    "grouping",
    "pairing",
    "sequence",
    "arrangement",
    "attempt",
)
#: Switching to something else: counts only after an attempt (an arithmetic step) appeared earlier.
BACKTRACK_SOFT: list[Cue] = [
    (
        "try trying",
        r"try(?:ing)? (?:again|something else|anything else|another|a different|other|some other)\b",
    ),
    (
        " ".join([*NOUNS, *(f"{n}s" for n in NOUNS), "strategies", "approaches"]),
        after("another", "different", "alternative", "other", "new")
        + "(?:"
        + "|".join(NOUNS)
        + r"|strateg(?:y|ies)|approaches)s?\b",
    ),
    ("instead alternatively", r"instead\b(?! of)|alternatively\b"),
    (
        "differently again second",
        after("think", "approach it", "approach this") + r"(?:differently|again)\b|second (?:idea|attempt|try"
        r"|approach)\b",
    ),
]

# --- subgoal setting: naming an intermediate target ---------------------------------------------------------
#: The words say "intermediate target" ("subgoal", "stepping stone", "next target"): any value named counts.
SUBGOAL_NAMED: list[Cue] = [
    (
        (
            "subgoal subgoals sub subtarget subtargets subproblem subproblems intermediate stepping "
            "steppingstone milestone milestones waypoint waypoints"
        ),
        rf"(?:sub[- ]?(?:goal|target|problem)s?|intermediate (?:goal|target|aim)s?|stepping[- ]?stones?"
        rf"|milestones?|waypoints?)\b(?:{GAP}{NUM})?",
    ),
    (
        "new next first smaller partial interim mini",
        rf"(?:new|next|first|smaller|partial|interim|mini)[- ](?:goal|target)\b(?:{GAP}{NUM})?",
    ),
]
#: A value to reach on the way ("aim for 12 first", "if I can make 8"): not a subgoal when it is the target.
SUBGOAL: list[Cue] = [
    (
        "first",
        rf"first\b{GAP}\b(?:get|make|reach|build|form|create|obtain|produce|aim for|target|go for"
        rf"|try to (?:get|make|reach|build))(?: to)? (?:close to |near |a |an )?{NUM}",
    ),
    (
        "get make reach build create form obtain produce aim target go",
        rf"(?:get|make|reach|build|create|form|obtain|produce|aim for|target|get to|go for)(?: to)?"
        rf" (?:a |an )?{NUM}"
        r" first\b",
    ),
    (
        "aim aiming",
        rf"aim(?:ing)? (?:for|at) (?:a |an |the )?"
        rf"(?:value of |number |intermediate (?:value|target|goal) (?:of )?)?"
        rf"{NUM}",
    ),
    (
        "if",
        rf"if (?:i|we) (?:can|could) (?:get|make|reach|form|create|find|obtain|produce|build)(?: to)?"
        rf" (?:a |an )?{NUM}",
    ),
    (
        "try trying want aim plan going attempt",
        rf"(?:try|trying|want|aim|plan|going|attempt) to (?:get|make|reach|build|form|create|obtain|produce)"
        rf" (?:a |an )?{NUM} (?:from|out of|using|with)\b",
    ),
]

# --- backward chaining: from the target back toward the inputs ----------------------------------------------
_STEP_BACK = [
    f"{a} {m}{u} {f}".strip()
    for a in ("one", "another")
    for m in ("", "more ")
    for u in ("level", "step")
    for f in ("", "further")
]
#: Announcing backward reasoning; absorbed by the concrete backward step that follows it.
BACKWARD_ANNOUNCE: list[Cue] = [
    (
        "backward backwards",
        after(
            "work",
            "works",
            "working",
            "worked",
            "reason",
            "reasoning",
            "think",
            "thinking",
            "go",
            "going",
            "count",
            "counting",
            "solve",
            "solving",
            "work it",
            "solve it",
        )
        + r"backwards?\b|backwards? (?:from|again|chaining|reasoning|step)\b",
    ),
    (
        "back",
        r"back (?:one|a) (?:more )?(?:step|level)\b|(?:(?<=work )|(?<=working ))back from\b"
        + "|"
        + after("from the target", "from the goal", "from the end", *_STEP_BACK)
        + r"back\b",
    ),
    ("start starting", r"start(?:ing)? (?:from|with|at) the (?:end|target|goal|answer|result)\b"),
    (
        "last final",
        r"(?:last|final) (?:step|operation|move)(?: \w+)? (?:must|should|could|would|has to|needs to"
        r"|will) be\b|(?:last|final) (?:step|operation|move) be\b",
    ),
    ("reverse", r"reverse(?: engineer(?:ing)?)? from\b|(?<=in )reverse from\b"),
    (
        "what",
        rf"what (?:number )?(?:times|plus|minus|multiplied by|divided by|added to|{OPS}) ?\d+ ?"
        r"(?:gives|equals|makes|is|=)",
    ),
    ("?", rf"\? ?{OPS} ?\d+ ?= ?\d"),
]
_SUBJECT = (
    "i",
    "we",
    "you",
    "i'd",
    "we'd",
    "you'd",
    "i would",
    "we would",
    "i will",
    "we will",
    "i'll",
    "we'll",
)
#: A needed value derived from the goal: "I need 27 from 18 and 9". Not a backward step when it is the target.
BACKWARD_NEED: list[Cue] = [
    (
        "need needs require",
        after(*_SUBJECT) + rf"(?:need|needs|require)(?: to (?:make|get|have|produce|find|form|build))?"
        rf" (?:a |an |another )?{NUM} (?:from|out of|using|with|more|left|remaining)\b",
    ),
    (
        "need must have",
        after("so i", "so we", "so i'd", "so we'd", "so i would", "so we would")
        + rf"(?:need|must (?:make|get|have)|have to (?:make|get|have))(?: to (?:make|get|have|produce))?"
        rf" (?:a |an )?{NUM}",
    ),
    (
        "must has have need needs would",
        rf"(?:must|has to|have to|need to|needs to|would have to|would need to) "
        rf"(?:make|give|produce|equal|be|come to|sum to|add up to|reach|form) {NUM}",
    ),
    (
        "should",
        rf"should (?:make|give|produce|equal|come to|sum to|add up to) {NUM}",
    ),  # "should be 21" corrects
    ("require requires", rf"requires? {NUM} (?:from|out of|using|with)\b"),
    # "..., which needs 28 from 14 and 2": a need stated about the expression just written.
    ("needs", after("which", "that", "this") + rf"needs {NUM} (?:from|out of|using|with)\b"),
]
#: A need stated on the way from a named goal ("to get 24 with a 2 left, I need 12", "we would need 19
#: from the rest"): any value, even one equal to the target.
BACKWARD_FROM_GOAL: list[Cue] = [
    (
        "need require",
        after("i'd", "we'd", "you'd", "i would", "we would", "you would")
        + rf"(?:need|require)(?: to (?:make|get|have|produce|find|form|build))?"
        rf" (?:a |an |another )?{NUM} (?:from|out of|using|with|more|left|remaining)\b",
    ),
    (
        "get reach make obtain arrive end produce",
        rf"(?<=to )(?:get|reach|make|obtain|arrive at|end up with|produce) \d+\b[^.!?\n]{{0,60}}?"
        rf"\b(?:need|needs|must|have to|has to|should|require|requires)"
        rf"(?: to (?:make|get|have|produce|give|be))?(?: (?:make|give|produce|be))? (?:a |an )?{NUM}",
    ),
    # "Since the target is 22, and 22 + 3 = 25": arithmetic that starts from the target.
    (
        "target goal",
        rf"(?:target|goal) (?:is |of |= )?(?P<goal>\d+),? (?:and |so |then )?(?P=goal) ?{OPS} ?\d+ ?=",
    ),
]

_NOT_THE_TARGET = (
    "intermediate ",
    "sub",
    "sub-",
    "new ",
    "next ",
    "first ",
    "smaller ",
    "with the ",
    "to the ",
    "against the ",
)
#: Where the problem's target is stated ("target: 24", "the goal is 24"), matched at an occurrence of the
#: word; the look-behinds skip intermediate goals and comparisons ("compare with the target: 7 vs 14").
TARGET_STATED = (
    r"(?<![a-z])(?:target|goal)"
    + "".join(f"(?<!{before}{word})" for before in _NOT_THE_TARGET for word in ("target", "goal"))
    + rf"(?: number| value)?(?: is| of| =|:|,| equals)? (?:to (?:make|get|reach) )?{NUM}(?! ?vs\b)"
)
#: Near the start only (the problem restated): "want to make 24", "combine ... into 24", "expression for 24".
TARGET_OPENING = (
    rf"\b(?:want|need|have|asked|supposed|goal is|task is) to (?:make|reach|get|obtain|create|form) "
    rf"(?:exactly )?{NUM}|\binto {NUM}"
    rf"|\b(?:expression|equation) (?:for|that equals|equal to|that gives) {NUM}"
    rf"|\b(?:result|answer) (?:should|must) (?:be|equal) {NUM}"
)
