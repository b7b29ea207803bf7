//! A Casbin adapter on sea-orm 2 (the published one targets an older sea-orm).

use async_trait::async_trait;
use casbin::{Adapter, Filter, Model, Result, error::AdapterError};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    QueryFilter, TransactionTrait,
};

use crate::entity::{ActiveModel, Column, Entity};

pub struct SeaOrmAdapter {
    conn: DatabaseConnection,
    filtered: bool,
}

impl SeaOrmAdapter {
    pub fn new(conn: DatabaseConnection) -> Self {
        Self {
            conn,
            filtered: false,
        }
    }
}

fn err(e: sea_orm::DbErr) -> casbin::Error {
    casbin::Error::AdapterError(AdapterError(Box::new(e)))
}

const VALUE_COLUMNS: [Column; 6] = [
    Column::V0,
    Column::V1,
    Column::V2,
    Column::V3,
    Column::V4,
    Column::V5,
];

pub(crate) fn row(ptype: &str, rule: &[String]) -> ActiveModel {
    let v = |i: usize| Set(rule.get(i).cloned().unwrap_or_default());
    ActiveModel {
        ptype: Set(ptype.to_owned()),
        v0: v(0),
        v1: v(1),
        v2: v(2),
        v3: v(3),
        v4: v(4),
        v5: v(5),
        ..Default::default()
    }
}

fn matches(ptype: &str, rule: &[String]) -> Condition {
    VALUE_COLUMNS.iter().enumerate().fold(
        Condition::all().add(Column::Ptype.eq(ptype)),
        |c, (i, col)| c.add(col.eq(rule.get(i).cloned().unwrap_or_default())),
    )
}

fn values(m: &crate::entity::Model) -> Vec<String> {
    let mut v = vec![
        m.v0.clone(),
        m.v1.clone(),
        m.v2.clone(),
        m.v3.clone(),
        m.v4.clone(),
        m.v5.clone(),
    ];
    while v.last().is_some_and(String::is_empty) {
        v.pop();
    }
    v
}

fn load_into(
    m: &mut dyn Model,
    rows: Vec<crate::entity::Model>,
    keep: impl Fn(&str, &[String]) -> bool,
) {
    for r in rows {
        let sec = &r.ptype[..1];
        let rule = values(&r);
        if !keep(sec, &rule) {
            continue;
        }
        if let Some(ast) = m
            .get_mut_model()
            .get_mut(sec)
            .and_then(|a| a.get_mut(&r.ptype))
        {
            ast.get_mut_policy().insert(rule);
        }
    }
}

async fn insert_rules<C: ConnectionTrait>(
    conn: &C,
    ptype: &str,
    rules: &[Vec<String>],
) -> Result<()> {
    if rules.is_empty() {
        return Ok(());
    }
    Entity::insert_many(rules.iter().map(|r| row(ptype, r)))
        .exec_without_returning(conn)
        .await
        .map_err(err)?;
    Ok(())
}

#[async_trait]
impl Adapter for SeaOrmAdapter {
    async fn load_policy(&mut self, m: &mut dyn Model) -> Result<()> {
        self.filtered = false;
        let rows = Entity::find().all(&self.conn).await.map_err(err)?;
        load_into(m, rows, |_, _| true);
        Ok(())
    }

    async fn load_filtered_policy<'a>(&mut self, m: &mut dyn Model, f: Filter<'a>) -> Result<()> {
        self.filtered = true;
        let rows = Entity::find().all(&self.conn).await.map_err(err)?;
        load_into(m, rows, |sec, rule| {
            let want = if sec == "p" { &f.p } else { &f.g };
            want.iter()
                .enumerate()
                .all(|(i, w)| w.is_empty() || rule.get(i).map(String::as_str) == Some(*w))
        });
        Ok(())
    }

    async fn save_policy(&mut self, m: &mut dyn Model) -> Result<()> {
        let txn = self.conn.begin().await.map_err(err)?;
        Entity::delete_many().exec(&txn).await.map_err(err)?;
        for sec in ["p", "g"] {
            let Some(asts) = m.get_model().get(sec) else {
                continue;
            };
            for (ptype, ast) in asts {
                let rules: Vec<Vec<String>> = ast.get_policy().iter().cloned().collect();
                insert_rules(&txn, ptype, &rules).await?;
            }
        }
        txn.commit().await.map_err(err)
    }

    async fn clear_policy(&mut self) -> Result<()> {
        Entity::delete_many().exec(&self.conn).await.map_err(err)?;
        Ok(())
    }

    fn is_filtered(&self) -> bool {
        self.filtered
    }

    async fn add_policy(&mut self, _sec: &str, ptype: &str, rule: Vec<String>) -> Result<bool> {
        insert_rules(&self.conn, ptype, &[rule]).await?;
        Ok(true)
    }

    async fn add_policies(
        &mut self,
        _sec: &str,
        ptype: &str,
        rules: Vec<Vec<String>>,
    ) -> Result<bool> {
        insert_rules(&self.conn, ptype, &rules).await?;
        Ok(true)
    }

    async fn remove_policy(&mut self, _sec: &str, ptype: &str, rule: Vec<String>) -> Result<bool> {
        let res = Entity::delete_many()
            .filter(matches(ptype, &rule))
            .exec(&self.conn)
            .await
            .map_err(err)?;
        Ok(res.rows_affected > 0)
    }

    async fn remove_policies(
        &mut self,
        _sec: &str,
        ptype: &str,
        rules: Vec<Vec<String>>,
    ) -> Result<bool> {
        let any = rules
            .iter()
            .fold(Condition::any(), |c, r| c.add(matches(ptype, r)));
        let res = Entity::delete_many()
            .filter(any)
            .exec(&self.conn)
            .await
            .map_err(err)?;
        Ok(res.rows_affected > 0)
    }

    async fn remove_filtered_policy(
        &mut self,
        _sec: &str,
        ptype: &str,
        field_index: usize,
        field_values: Vec<String>,
    ) -> Result<bool> {
        let cond = field_values
            .iter()
            .enumerate()
            .filter(|(_, v)| !v.is_empty())
            .filter_map(|(i, v)| VALUE_COLUMNS.get(field_index + i).map(|c| c.eq(v.clone())))
            .fold(
                Condition::all().add(Column::Ptype.eq(ptype)),
                Condition::add,
            );
        let res = Entity::delete_many()
            .filter(cond)
            .exec(&self.conn)
            .await
            .map_err(err)?;
        Ok(res.rows_affected > 0)
    }
}
