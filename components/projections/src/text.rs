//! Text normalisation into search terms, shared by the index builder and the query side so
//! both agree: lower case, accents removed, split on anything not a letter or digit, simple
//! English plurals folded to the singular, very common words dropped.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Words too common to help a search.
const STOP_WORDS: &[&str] = &[
    "a", "an", "and", "for", "in", "of", "on", "or", "the", "to", "with",
];

/// The longest term kept, in bytes; longer runs are cut (they are not words).
const MAX_TERM: usize = 32;

/// The normalised terms of `text`, in order, duplicates kept.
pub fn terms(text: &str) -> Vec<String> {
    let folded: String = text
        .nfd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'ß' => 's',
            'æ' => 'a',
            'ø' => 'o',
            'œ' => 'o',
            'ł' => 'l',
            c => c,
        })
        .collect();
    folded
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty() && !STOP_WORDS.contains(w))
        .map(|w| singular(truncate(w)))
        .collect()
}

fn truncate(word: &str) -> &str {
    if word.len() <= MAX_TERM {
        return word;
    }
    let mut end = MAX_TERM;
    while !word.is_char_boundary(end) {
        end -= 1;
    }
    &word[..end]
}

/// Folds simple English plurals: berries → berry, tomatoes → tomato, boxes → box,
/// peaches → peach, apples → apple. Words of three letters or fewer, and words ending in
/// `ss`, `us` or `is`, are left alone (glass, asparagus, hummus, swiss).
fn singular(word: &str) -> String {
    let n = word.len();
    if n <= 3 || !word.is_ascii() {
        return word.to_owned();
    }
    if let Some(stem) = word.strip_suffix("ies") {
        return format!("{stem}y");
    }
    for suffix in ["oes", "xes", "ches", "shes", "sses", "zes"] {
        if let Some(stem) = word.strip_suffix(suffix) {
            return format!("{stem}{}", &suffix[..suffix.len() - 2]);
        }
    }
    if word.ends_with("ss") || word.ends_with("us") || word.ends_with("is") {
        return word.to_owned();
    }
    word.strip_suffix('s').unwrap_or(word).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_accents_and_plurals_fold_to_one_term() {
        assert_eq!(terms("Crème Brûlée"), ["creme", "brulee"]);
        assert_eq!(terms("BERRIES"), ["berry"]);
        assert_eq!(terms("tomatoes and peaches"), ["tomato", "peach"]);
        assert_eq!(terms("Boxes of apples"), ["box", "apple"]);
        assert_eq!(terms("Straße"), ["strase"]);
    }

    #[test]
    fn words_that_only_look_plural_are_kept() {
        assert_eq!(
            terms("glass hummus asparagus swiss gas"),
            ["glass", "hummus", "asparagus", "swiss", "gas"]
        );
    }

    #[test]
    fn punctuation_splits_and_stop_words_go() {
        assert_eq!(
            terms("Rye-bread, 800g (the best!)"),
            ["rye", "bread", "800g", "best"]
        );
        assert!(terms("  ...  ").is_empty());
    }

    #[test]
    fn overlong_runs_are_cut_on_a_character_boundary() {
        let t = terms(&"é".repeat(40));
        assert_eq!(t.len(), 1);
        assert!(t[0].len() <= MAX_TERM);
    }
}
