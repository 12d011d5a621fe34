//! The `metric_series` table: counters and histograms that outlive a
//! process (HTTP requests made or served), one row per name and label set,
//! so that they add up over every process that shares the store. A
//! histogram's buckets are stored cumulative, as JSON.

use rusqlite::{Connection, params};

use super::Result;

/// Adds one to a counter.
pub(crate) fn count(conn: &Connection, name: &str, labels: &str) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO metric_series (name, labels, count, sum, buckets) VALUES (?1, ?2, 1, 0, NULL) \
         ON CONFLICT (name, labels) DO UPDATE SET count = count + 1",
    )?
    .execute(params![name, labels])?;
    Ok(())
}

/// Adds one observation to a histogram over `bounds`: one to every bucket
/// from the first whose bound holds it. A row whose buckets do not fit the
/// bounds (bounds changed, or a damaged row) starts over from this
/// observation.
pub(crate) fn observe(
    conn: &Connection,
    name: &str,
    labels: &str,
    value: f64,
    bounds: &[f64],
) -> Result<()> {
    let first = bounds
        .iter()
        .position(|bound| value <= *bound)
        .unwrap_or(bounds.len());
    let added: Vec<String> = (0..bounds.len())
        .map(|i| u8::from(i >= first).to_string())
        .collect();
    let added = format!("[{}]", added.join(","));
    conn.prepare_cached(
        "INSERT INTO metric_series (name, labels, count, sum, buckets) VALUES (?1, ?2, 1, ?3, ?4) \
         ON CONFLICT (name, labels) DO UPDATE SET \
           count = CASE WHEN CASE WHEN json_valid(buckets) THEN json_array_length(buckets) END IS ?5 \
                   THEN count + 1 ELSE 1 END, \
           sum = CASE WHEN CASE WHEN json_valid(buckets) THEN json_array_length(buckets) END IS ?5 \
                 THEN sum + excluded.sum ELSE excluded.sum END, \
           buckets = CASE WHEN CASE WHEN json_valid(buckets) THEN json_array_length(buckets) END IS ?5 \
                     THEN (SELECT json_group_array(old.value + new.value ORDER BY old.key) \
                           FROM json_each(metric_series.buckets) AS old \
                           JOIN json_each(?4) AS new ON new.key = old.key) \
                     ELSE ?4 END",
    )?
    .execute(params![name, labels, value, added, bounds.len() as i64])?;
    Ok(())
}

/// What a row holds besides its count and sum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Buckets {
    /// A counter.
    None,
    /// A histogram's cumulative counts.
    Counts(Vec<u64>),
    /// A histogram whose buckets do not read.
    Damaged,
}

/// One stored series.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Series {
    pub name: String,
    pub labels: String,
    pub count: u64,
    pub sum: f64,
    pub buckets: Buckets,
}

/// Every series, by name and label set.
pub(crate) fn series(conn: &Connection) -> Result<Vec<Series>> {
    let mut stmt = conn.prepare_cached(
        "SELECT name, labels, count, sum, buckets FROM metric_series ORDER BY name, labels",
    )?;
    let rows = stmt
        .query_map([], |r| {
            let buckets = match r.get::<_, Option<String>>(4)? {
                None => Buckets::None,
                Some(text) => serde_json::from_str(&text).map_or(Buckets::Damaged, Buckets::Counts),
            };
            Ok(Series {
                name: r.get(0)?,
                labels: r.get(1)?,
                count: r.get::<_, i64>(2)?.max(0) as u64,
                sum: r.get(3)?,
                buckets,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    #[test]
    fn observations_add_up_in_cumulative_buckets() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let bounds = [0.1, 1.0];
        observe(&store.conn, "h", "", 0.05, &bounds).unwrap();
        observe(&store.conn, "h", "", 0.5, &bounds).unwrap();
        observe(&store.conn, "h", "", 9.0, &bounds).unwrap();
        count(&store.conn, "c", "a=\"1\"").unwrap();
        count(&store.conn, "c", "a=\"1\"").unwrap();
        let all = series(&store.conn).unwrap();
        assert_eq!(all[0].name, "c");
        assert_eq!((all[0].count, all[0].buckets.clone()), (2, Buckets::None));
        assert_eq!(all[1].buckets, Buckets::Counts(vec![1, 2]));
        assert_eq!((all[1].count, all[1].sum), (3, 9.55));
        store
            .conn
            .execute(
                "UPDATE metric_series SET buckets = 'x' WHERE name = 'h'",
                [],
            )
            .unwrap();
        assert_eq!(series(&store.conn).unwrap()[1].buckets, Buckets::Damaged);
    }
}
