//! Integration tests: the sandbox and the gateway on 127.0.0.1:0, queried over HTTP.

#![allow(clippy::unwrap_used, missing_docs, unreachable_pub)]

mod allocation;
mod apq;
mod auth;
mod bench;
mod browser;
mod business;
mod cache;
mod cli;
mod connections;
mod cors;
mod error_codes;
mod finance;
mod funding;
mod helpers;
mod http;
mod invoices;
mod limits;
mod migration;
mod partial;
mod people;
mod planning;
mod production;
mod projects;
mod readme;
mod redis;
mod replicas;
mod schema_file;
mod subscriptions;
mod upstream_failures;
mod webhooks;
