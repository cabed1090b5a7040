//! Sanctions screening: list parsing (`list`), name normalisation and blocking keys
//! (`normalize`), and the screener (`screen`).

pub(crate) mod list;
pub mod normalize;
pub mod screen;
pub mod similarity;

pub use list::{parse_list, SanctionsEntry, SanctionsList};
pub use screen::{parse_min_score, screen, SanctionsHit, DEFAULT_MIN_SCORE};
pub use similarity::similarity;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    fn fixture(name: &str) -> std::fs::File {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/compliance")
            .join(name);
        std::fs::File::open(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
    }

    fn fixture_list() -> SanctionsList {
        parse_list(fixture("sanctions.csv")).unwrap()
    }

    fn screen_one(holder: &str) -> Vec<SanctionsHit> {
        screen(&[holder.to_string()], &fixture_list(), DEFAULT_MIN_SCORE)
    }

    fn parse_error(text: &str) -> String {
        let error = parse_list(text.as_bytes()).unwrap_err();
        assert_eq!(error.code, ErrorCode::InvalidInput);
        error.message
    }

    #[test]
    fn an_unclosed_quote_names_its_line() {
        let message =
            parse_error("John Smith,SDGT,X1\n\"Jane Roe,SDGT,X2\nMax Mustermann,SDGT,X3\n");
        assert!(
            message.starts_with(
                "sanctions list line 2: a quoted field opens here and is never closed"
            ),
            "{message}"
        );
    }

    #[test]
    fn parses_the_fixture_with_header_aliases_and_diacritics() {
        let list = fixture_list();
        assert_eq!(list.len(), 10);
        let entry = &list.entries()[2];
        assert_eq!(entry.name, "Al-Rashid, Omar");
        assert_eq!(entry.aliases, vec!["Omar Rashid", "Abu Omar"]);
        assert!(list.entries()[4].aliases.is_empty());
    }

    #[test]
    fn a_file_without_header_is_read_from_its_first_line() {
        let list =
            parse_list("John Smith,SDGT,X1\nJane Roe,SDGT,X2,Janie Roe ; J Roe;\n".as_bytes())
                .unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list.entries()[1].aliases, vec!["Janie Roe", "J Roe"]);
    }

    #[test]
    fn malformed_lists_name_the_line_and_field() {
        let message = parse_list(fixture("bad_sanctions.csv"))
            .unwrap_err()
            .message;
        assert_eq!(message, "sanctions list line 3, field program: is empty");
        assert!(parse_error("name,program,list_id\nJohn Smith,SDGT\n")
            .contains("line 2: expected 3 or 4 fields"));
        assert!(parse_error("A B,P,1,x,extra\n").contains("found 5"));
        assert_eq!(
            parse_error(" ,P,1\n"),
            "sanctions list line 1, field name: is empty"
        );
        assert_eq!(
            parse_error("A B,P,\n"),
            "sanctions list line 1, field list_id: is empty"
        );
        assert_eq!(
            parse_error("--,P,1\n"),
            "sanctions list line 1, field name: '--' has no letters or digits"
        );
        assert_eq!(
            parse_error("A B,P,1,ok;?!\n"),
            "sanctions list line 1, field aliases: '?!' has no letters or digits"
        );
        assert_eq!(
            parse_error("A B,P,1\nC D,P,1\n"),
            "sanctions list line 2, field list_id: '1' is already used on line 1"
        );
        assert_eq!(
            parse_error("name,program,list_id\n"),
            "sanctions list has no entries"
        );
        let invalid_utf8: &[u8] = b"A B,P\xff,1\n";
        assert_eq!(
            parse_list(invalid_utf8).unwrap_err().message,
            "sanctions list line 1, field program: is not valid UTF-8"
        );
    }

    #[test]
    fn exact_and_reordered_names_score_one() {
        let hits = screen_one("Smith, John");
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].score, "1.000");
        assert_eq!(hits[0].list_id, "SDN-1001");
        assert_eq!(hits[0].program, "SDGT");
        assert_eq!(hits[0].listed_name, "John Smith");
        assert_eq!(hits[0].matched_alias, None);
    }

    #[test]
    fn near_misses_match() {
        for holder in ["Jon Smiht", "JOHN SMYTH", "Smith Jon"] {
            let hits = screen_one(holder);
            assert_eq!(hits.len(), 1, "{holder}: {hits:?}");
            assert_eq!(hits[0].list_id, "SDN-1001");
            assert!(
                hits[0].score_per_mille >= 900 && hits[0].score_per_mille < 1000,
                "{holder}: {}",
                hits[0].score
            );
        }
    }

    #[test]
    fn diacritics_do_not_matter() {
        let hits = screen_one("Jose Munoz");
        assert_eq!(
            (hits[0].list_id.as_str(), hits[0].score.as_str()),
            ("SDN-1002", "1.000")
        );
        let hits = screen_one("Zoe Angstrom");
        assert_eq!(hits[0].list_id, "SDN-1005");
        let hits = screen_one("Vladimir Petrov");
        assert_eq!(hits[0].list_id, "SDN-1004");
        // Both the transliterated primary name and the alias score 1.000: the primary wins.
        assert_eq!(hits[0].matched_alias, None);
    }

    #[test]
    fn aliases_hit_and_are_named() {
        let hits = screen_one("Omar Rashid");
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].list_id, "SDN-1003");
        assert_eq!(hits[0].matched_alias.as_deref(), Some("Omar Rashid"));
        let hits = screen_one("Golden Crescent General Trading Co");
        assert_eq!(hits[0].list_id, "SDN-1007");
        assert_eq!(
            hits[0].matched_alias.as_deref(),
            Some("Golden Crescent General Trading")
        );
    }

    #[test]
    fn different_names_do_not_match() {
        for holder in [
            "Jane Smithers",
            "John Brown",
            "John",
            "Marta Fernandez",
            "Omar Sharif",
            "Wei Zhou",
        ] {
            assert!(
                screen_one(holder).is_empty(),
                "{holder}: {:?}",
                screen_one(holder)
            );
        }
    }

    #[test]
    fn minimum_score_is_inclusive_at_three_decimals() {
        let list = fixture_list();
        let holder = vec!["Jon Smiht".to_string()];
        let per_mille = screen(&holder, &list, 0.0)[0].score_per_mille;
        let at_score = f64::from(per_mille) / 1000.0;
        assert_eq!(screen(&holder, &list, at_score).len(), 1);
        assert!(screen(&holder, &list, at_score + 0.001).is_empty());
    }

    #[test]
    fn similarity_combines_sorted_string_and_token_set() {
        assert_eq!(similarity("John Smith", "Smith, John"), 1.0);
        // Token set: {john: 1.0, smith: 1.0} and {john: 1.0, michael: <1, smith: 1.0}.
        let with_middle_name = similarity("John Smith", "John Michael Smith");
        assert!(with_middle_name >= 0.9, "{with_middle_name}");
        assert_eq!(format!("{:.3}", similarity("John", "John Smith")), "0.800");
        // Joined words meet through the sorted-string Jaro.
        assert!(similarity("Abdul Rahman", "Abdulrahman") >= 0.9);
        // Winkler's prefix bonus is not applied to the whole sorted string.
        assert!(similarity("Omar Rashid", "Omar Sharif") < 0.9);
        // A shared given name does not carry a different surname (schubert/schaefer < 0.85).
        assert!(similarity("Hugo Schubert", "Hugo Schaefer") < 0.9);
        assert!(similarity("Mohammed Ali", "Muhammad Ali") >= 0.9);
        assert!(similarity("Catherine Zeta Jones", "Katherine Zeta-Jones") >= 0.9);
        assert_eq!(similarity("", "John"), 0.0);
    }

    #[test]
    fn duplicate_holders_are_screened_once_and_hits_sorted() {
        let holders: Vec<String> = ["Jose Munoz", "Jon Smiht", "Jose Munoz"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let hits = screen(&holders, &fixture_list(), DEFAULT_MIN_SCORE);
        let names: Vec<&str> = hits.iter().map(|hit| hit.holder.as_str()).collect();
        assert_eq!(names, vec!["Jon Smiht", "Jose Munoz"]);
        let json = serde_json::to_value(&hits[1]).unwrap();
        assert_eq!(json["score"], "1.000");
        assert!(json.get("score_per_mille").is_none());
    }

    #[test]
    fn frequent_words_do_not_hide_a_match() {
        // 300 listed Mohammeds make "mohammed" a frequent key: a holder with a rarer token
        // is compared within that token's block only, and still meets his namesake.
        let letters = |index: usize| {
            let letter = |value: usize| char::from(b'a' + (value % 26) as u8);
            format!("Zq{}{}", letter(index / 26), letter(index))
        };
        let mut csv: String = (0..300)
            .map(|index| format!("Mohammed {},P,ID{index}\n", letters(index)))
            .collect();
        csv.push_str("Mohammed Smith,SDGT,SMITH\n");
        let list = parse_list(csv.as_bytes()).unwrap();
        let hits = screen(&["Mohammed Smyth".to_string()], &list, DEFAULT_MIN_SCORE);
        let ids: Vec<&str> = hits.iter().map(|hit| hit.list_id.as_str()).collect();
        assert_eq!(ids, vec!["SMITH"]);
        // A holder with nothing but the frequent word is compared with every Mohammed.
        let hits = screen(&["Mohammed".to_string()], &list, 0.75);
        assert_eq!(hits.len(), 301);
    }

    #[test]
    fn parses_min_score() {
        assert_eq!(parse_min_score("0.9").unwrap(), 0.9);
        assert_eq!(parse_min_score("1").unwrap(), 1.0);
        assert_eq!(parse_min_score("0.875").unwrap(), 0.875);
        for bad in ["1.1", "-0.5", "0.9001", "abc", "", "NaN", "inf", "0.9.1"] {
            assert_eq!(
                parse_min_score(bad).unwrap_err().code,
                ErrorCode::InvalidInput,
                "{bad}"
            );
        }
    }
}
