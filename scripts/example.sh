#!/usr/bin/env bash
# Creates an example grievance database (SQLite) and runs one dry pass of the orchestrator on it:
# the counts, the decisions and what a real pass would restart, without touching any Space.
set -euo pipefail
cd "$(dirname "$0")/.."

binary=${ORCHESTRATOR:-build/orchestrator}
db=example/grievances.db
mkdir -p example
rm -f "$db"

sqlite3 "$db" <<'SQL'
CREATE TABLE complaints (
  id INTEGER PRIMARY KEY, citizen_id INTEGER, department VARCHAR(100), message TEXT NOT NULL,
  message_processed TEXT, urgency VARCHAR(20), current_status VARCHAR(20) DEFAULT 'PENDING',
  date_submitted TIMESTAMP DEFAULT CURRENT_TIMESTAMP, ward_id INTEGER,
  created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP, updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP);
CREATE TABLE misclassified_complaints (
  id INTEGER PRIMARY KEY, complaint_id INTEGER NOT NULL REFERENCES complaints(id) ON DELETE CASCADE,
  model_predicted_department VARCHAR(100), model_predicted_urgency VARCHAR(20),
  correct_department VARCHAR(100), correct_urgency VARCHAR(20), reported_by_admin_id INTEGER,
  reviewed BOOLEAN DEFAULT 0, reviewed_at TIMESTAMP, created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP);
CREATE INDEX misclassified_complaints_complaint_id_idx ON misclassified_complaints (complaint_id);

-- 500 grievances; the model got the department of 60 and the urgency of 12 wrong.
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500)
INSERT INTO complaints (id, department, urgency, message)
SELECT i,
       CASE i % 4 WHEN 0 THEN 'Municipal Governance & Community Services'
                  WHEN 1 THEN 'Education, Health & Social Welfare'
                  WHEN 2 THEN 'Infrastructure, Utilities & Natural Resources'
                  ELSE 'Security & Law Enforcement' END,
       CASE i % 3 WHEN 0 THEN 'NORMAL' WHEN 1 THEN 'URGENT' ELSE 'HIGHLY URGENT' END,
       'grievance number ' || i
FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 60)
INSERT INTO misclassified_complaints (complaint_id, model_predicted_department, correct_department,
                                      model_predicted_urgency, correct_urgency, reviewed)
SELECT i, 'Security & Law Enforcement', 'Education, Health & Social Welfare',
       CASE WHEN i <= 12 THEN 'NORMAL' END, CASE WHEN i <= 12 THEN 'HIGHLY URGENT' END, 1
FROM n;
SQL

echo "example: created $db (500 complaints, 60 reviewed department corrections, 12 urgency)"
echo "example: running one dry pass; thresholds: department 40 rows, urgency 30 rows"
echo
DATABASE_URL="sqlite:///$db" THRESHOLD_DEPARTMENT=40 THRESHOLD_URGENCY=30 \
PREPARE_DATASET_REPO=${PREPARE_DATASET_REPO:-owner/prepare_dataset} \
  "$binary" run --dry-run --env-file /dev/null
