//! The days a statement covers and the closing balances it states for them. Pure: what a run
//! reconciles is decided from the statement alone (and the other runs' periods, by the caller).

use super::{Statement, StatementBalances};
use chrono::NaiveDate;

/// The statement's period: from the earliest of its parts' stated `from` dates and its lines'
/// booking dates, to the latest of their `to` dates, booking dates and closing-balance dates.
/// `None` for a statement that names no day at all (no lines, no period, no balance date).
pub fn statement_period(statement: &Statement) -> Option<(NaiveDate, NaiveDate)> {
    statement_period_with(statement, &closing_balances(statement))
}

/// `statement_period` with the statement's `closing_balances` already at hand.
pub fn statement_period_with(
    statement: &Statement,
    closings: &[(NaiveDate, StatementBalances)],
) -> Option<(NaiveDate, NaiveDate)> {
    let stated = statement
        .parts
        .iter()
        .filter_map(|part| part.period)
        .flat_map(|(from, to)| [from, to]);
    let booked = statement.lines.iter().map(|line| line.date);
    let closing = closings.iter().map(|(date, _)| *date);
    let mut days = stated.chain(booked).chain(closing);
    let first = days.next()?;
    Some(days.fold((first, first), |(from, to), day| {
        (from.min(day), to.max(day))
    }))
}

/// Each day's closing balance as the statement states it, in date order. A part's closing
/// date is its balance's own date, else the end of its stated period, else its last booking
/// date; of several parts closing on one day (pages), the last in the file holds the day's
/// balance. A statement without parts contributes its own balances.
pub fn closing_balances(statement: &Statement) -> Vec<(NaiveDate, StatementBalances)> {
    let mut closings: Vec<(NaiveDate, StatementBalances)> = Vec::new();
    let mut add = |date: Option<NaiveDate>, balances: StatementBalances| {
        let Some(date) = date else { return };
        closings.retain(|(day, _)| *day != date);
        closings.push((date, balances));
    };
    for part in &statement.parts {
        let Some(balances) = part.balances else {
            continue;
        };
        let last_booked = statement
            .lines
            .get(part.lines.clone())
            .and_then(|lines| lines.iter().map(|line| line.date).max());
        let date = balances
            .closing_date
            .or(part.period.map(|(_, to)| to))
            .or(last_booked);
        add(date, balances);
    }
    if statement.parts.iter().all(|part| part.balances.is_none()) {
        if let Some(balances) = statement.balances {
            let last_booked = statement.lines.iter().map(|line| line.date).max();
            add(balances.closing_date.or(last_booked), balances);
        }
    }
    closings.sort_by_key(|(date, _)| *date);
    closings
}
