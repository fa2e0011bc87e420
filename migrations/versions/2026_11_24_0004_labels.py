"""Bashan eco-label: schemes and criteria versions, certifier accreditations, certifications with their transition log,
audit findings, lab results, surveillance audits, recognised schemes, label code batches and codes, scans,
counterfeit flags and product lots.

The database guards what it can by itself:
- legal states by CHECK, and legal state changes by a trigger (the pairs of domain/labels/states.py RULES);
- a certifier's label number (the CCCC of its codes) belongs to that certifier only;
- label codes are unique (primary key) and shaped as 20 digits; codes, batches, transitions, findings, lab results
  and surveillance audits are append-only;
- a code batch only under a live certificate and within its certified annual volume per certificate year, checked by a
  trigger that locks the certification row, so concurrent batches queue instead of overshooting; the same for lots.
Codes are stored narrow (code, batch id) because a batch of a million arrives by COPY.
A lot's "frozen" is derived from its certificate's state (view ``product_lot_status``), never stored.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CATEGORIES = "('tremella', 'tea', 'honey', 'selenium_produce', 'herbs')"
CATEGORY_ARRAY = "ARRAY['tremella', 'tea', 'honey', 'selenium_produce', 'herbs']::text[]"
STATES = (
    "('applied', 'doc_review', 'onsite_audit', 'lab_testing', 'decision', 'rectification', 'decided', 'refused', "
    "'issued', 'surveillance_overdue', 'suspended', 'revoked', 'expired', 'renewed', 'withdrawn')"
)
ASSESSMENT = "('doc_review', 'onsite_audit', 'lab_testing', 'decision')"
CERTIFIED = "('issued', 'surveillance_overdue', 'suspended', 'revoked', 'expired', 'renewed')"
EVENTS = (
    "('start_review', 'accept_documents', 'record_audit', 'record_lab_results', 'request_rectification', "
    "'submit_rectification', 'grant', 'refuse', 'issue', 'record_surveillance', 'mark_overdue', 'suspend', "
    "'reinstate', 'revoke', 'expire', 'renew', 'withdraw')"
)

UPGRADE: tuple[str, ...] = (
    """
    CREATE TABLE label_scheme (
        code text,
        name text NOT NULL,
        certificate_validity_months integer NOT NULL,
        surveillance_interval_months integer NOT NULL,
        surveillance_grace_days integer NOT NULL,
        surveillance_notice_days integer NOT NULL,
        renewal_window_days integer NOT NULL,
        counterfeit_max_scans integer NOT NULL DEFAULT 20,
        counterfeit_scan_window_hours integer NOT NULL DEFAULT 720,
        counterfeit_max_places integer NOT NULL DEFAULT 2,
        counterfeit_place_window_hours integer NOT NULL DEFAULT 48,
        counterfeit_same_place_km real NOT NULL DEFAULT 50,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT pk_label_scheme PRIMARY KEY (code),
        CONSTRAINT ck_label_scheme_counterfeit_rule CHECK (counterfeit_max_scans >= 1 AND counterfeit_max_places >= 1
            AND counterfeit_scan_window_hours >= 1 AND counterfeit_place_window_hours >= 1
            AND counterfeit_same_place_km > 0),
        CONSTRAINT ck_label_scheme_code_format CHECK (code ~ '^[A-Z][A-Z0-9-]{1,31}$'),
        CONSTRAINT ck_label_scheme_periods CHECK (certificate_validity_months > 0 AND surveillance_interval_months > 0
            AND surveillance_interval_months <= certificate_validity_months),
        CONSTRAINT ck_label_scheme_windows CHECK (surveillance_grace_days >= 0 AND surveillance_notice_days >= 0
            AND renewal_window_days >= 0)
    )
    """,
    f"""
    CREATE TABLE label_criteria_version (
        scheme_code text NOT NULL,
        category text NOT NULL,
        version integer NOT NULL,
        effective_from date NOT NULL,
        criteria jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT pk_label_criteria_version PRIMARY KEY (scheme_code, category, version),
        CONSTRAINT fk_label_criteria_version_scheme_code_label_scheme
            FOREIGN KEY (scheme_code) REFERENCES label_scheme (code),
        CONSTRAINT ck_label_criteria_version_category_known CHECK (category IN {CATEGORIES}),
        CONSTRAINT ck_label_criteria_version_version_positive CHECK (version >= 1),
        CONSTRAINT ck_label_criteria_version_criteria_array CHECK (jsonb_typeof(criteria) = 'array')
    )
    """,
    """
    CREATE TABLE certifier_label_number (
        label_number integer,
        certifier_id uuid NOT NULL,
        CONSTRAINT pk_certifier_label_number PRIMARY KEY (label_number),
        CONSTRAINT uq_certifier_label_number_certifier_id UNIQUE (certifier_id),
        CONSTRAINT uq_certifier_label_number_label_number_certifier_id UNIQUE (label_number, certifier_id),
        CONSTRAINT fk_certifier_label_number_certifier_id_organisation
            FOREIGN KEY (certifier_id) REFERENCES organisation (id),
        CONSTRAINT ck_certifier_label_number_range CHECK (label_number BETWEEN 1 AND 9999)
    )
    """,
    f"""
    CREATE TABLE certifier_accreditation (
        id uuid DEFAULT gen_random_uuid(),
        certifier_id uuid NOT NULL,
        scheme_code text NOT NULL,
        categories text[] NOT NULL,
        valid_from date NOT NULL,
        valid_until date NOT NULL,
        label_number integer NOT NULL,
        withdrawn_on date,
        withdrawal_reason text,
        created_by uuid,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT pk_certifier_accreditation PRIMARY KEY (id),
        CONSTRAINT fk_certifier_accreditation_certifier_id_organisation
            FOREIGN KEY (certifier_id) REFERENCES organisation (id),
        CONSTRAINT fk_certifier_accreditation_scheme_code_label_scheme
            FOREIGN KEY (scheme_code) REFERENCES label_scheme (code),
        CONSTRAINT fk_certifier_accreditation_label_number_certifier_label_number
            FOREIGN KEY (label_number, certifier_id) REFERENCES certifier_label_number (label_number, certifier_id),
        CONSTRAINT ck_certifier_accreditation_categories_known
            CHECK (cardinality(categories) >= 1 AND categories <@ {CATEGORY_ARRAY}),
        CONSTRAINT ck_certifier_accreditation_validity CHECK (valid_from <= valid_until),
        CONSTRAINT ck_certifier_accreditation_withdrawal
            CHECK ((withdrawn_on IS NULL) = (withdrawal_reason IS NULL))
    )
    """,
    "CREATE INDEX ix_certifier_accreditation_certifier_id ON certifier_accreditation (certifier_id)",
    f"""
    CREATE TABLE scheme_recognition (
        id uuid DEFAULT gen_random_uuid(),
        scheme_code text NOT NULL,
        recognised_scheme text NOT NULL,
        name text NOT NULL,
        categories text[] NOT NULL,
        valid_from date NOT NULL,
        valid_until date NOT NULL,
        created_by uuid,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT pk_scheme_recognition PRIMARY KEY (id),
        CONSTRAINT fk_scheme_recognition_scheme_code_label_scheme
            FOREIGN KEY (scheme_code) REFERENCES label_scheme (code),
        CONSTRAINT ck_scheme_recognition_not_itself CHECK (recognised_scheme <> scheme_code),
        CONSTRAINT ck_scheme_recognition_categories_known
            CHECK (cardinality(categories) >= 1 AND categories <@ {CATEGORY_ARRAY}),
        CONSTRAINT ck_scheme_recognition_validity CHECK (valid_from <= valid_until),
        CONSTRAINT ck_scheme_recognition_recognised_scheme_format CHECK (recognised_scheme ~ '^[A-Z][A-Z0-9-]{{1,31}}$')
    )
    """,
    "CREATE INDEX ix_scheme_recognition_scheme_code ON scheme_recognition (scheme_code)",
    f"""
    CREATE TABLE certification (
        id uuid DEFAULT gen_random_uuid(),
        scheme_code text NOT NULL,
        producer_id uuid NOT NULL,
        certifier_id uuid NOT NULL,
        category text NOT NULL,
        product text NOT NULL,
        production_site text NOT NULL,
        district text NOT NULL,
        annual_volume bigint NOT NULL,
        volume_unit text NOT NULL,
        shortened_path boolean NOT NULL DEFAULT false,
        foreign_scheme text,
        foreign_number text,
        foreign_valid_until date,
        recognition_id uuid,
        state text NOT NULL DEFAULT 'applied',
        rectification_reasons text[] NOT NULL DEFAULT '{{}}',
        resume_at text,
        number text,
        valid_from date,
        valid_until date,
        surveillance_due_on date,
        predecessor_id uuid,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT pk_certification PRIMARY KEY (id),
        CONSTRAINT uq_certification_number UNIQUE (number),
        CONSTRAINT uq_certification_predecessor_id UNIQUE (predecessor_id),
        CONSTRAINT fk_certification_scheme_code_label_scheme FOREIGN KEY (scheme_code) REFERENCES label_scheme (code),
        CONSTRAINT fk_certification_producer_id_organisation FOREIGN KEY (producer_id) REFERENCES organisation (id),
        CONSTRAINT fk_certification_certifier_id_organisation FOREIGN KEY (certifier_id) REFERENCES organisation (id),
        CONSTRAINT fk_certification_predecessor_id_certification
            FOREIGN KEY (predecessor_id) REFERENCES certification (id),
        CONSTRAINT fk_certification_recognition_id_scheme_recognition
            FOREIGN KEY (recognition_id) REFERENCES scheme_recognition (id),
        CONSTRAINT ck_certification_state_known CHECK (state IN {STATES}),
        CONSTRAINT ck_certification_category_known CHECK (category IN {CATEGORIES}),
        CONSTRAINT ck_certification_annual_volume_positive CHECK (annual_volume > 0),
        CONSTRAINT ck_certification_application_text CHECK (length(btrim(product)) BETWEEN 1 AND 300
            AND length(btrim(volume_unit)) BETWEEN 1 AND 40),
        CONSTRAINT ck_certification_resume_at CHECK ((state = 'rectification') = (resume_at IS NOT NULL)
            AND (resume_at IS NULL OR resume_at IN {ASSESSMENT})),
        CONSTRAINT ck_certification_dates_together CHECK ((number IS NULL) = (valid_from IS NULL)
            AND (valid_from IS NULL) = (valid_until IS NULL) AND (valid_until IS NULL) = (surveillance_due_on IS NULL)),
        CONSTRAINT ck_certification_certified_has_number CHECK (state NOT IN {CERTIFIED} OR number IS NOT NULL),
        CONSTRAINT ck_certification_validity CHECK (valid_from IS NULL OR valid_from <= valid_until),
        CONSTRAINT ck_certification_shortened_path CHECK (shortened_path = (foreign_scheme IS NOT NULL)
            AND (foreign_scheme IS NULL) = (foreign_number IS NULL)
            AND (foreign_scheme IS NULL) = (foreign_valid_until IS NULL))
    )
    """,
    "CREATE INDEX ix_certification_producer_id ON certification (producer_id)",
    "CREATE INDEX ix_certification_certifier_id ON certification (certifier_id)",
    # The surveillance sweep reads only certificates that can still change by date.
    "CREATE INDEX ix_certification_sweep ON certification (surveillance_due_on) "
    "WHERE state IN ('issued', 'surveillance_overdue', 'suspended')",
    # Legal state changes, the pairs of domain/labels/states.py RULES; a guard under the domain, not a second rulebook.
    f"""
    CREATE FUNCTION certification_state_change_legal() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF NEW.state = OLD.state THEN
            RETURN NEW;
        END IF;
        IF NOT (
            (OLD.state = 'applied' AND NEW.state IN ('doc_review', 'withdrawn'))
            OR (OLD.state = 'doc_review' AND NEW.state IN ('onsite_audit', 'decided'))
            OR (OLD.state = 'onsite_audit' AND NEW.state = 'lab_testing')
            OR (OLD.state IN ('lab_testing', 'decision') AND NEW.state = 'decision')
            OR (OLD.state = 'decision' AND NEW.state = 'decided')
            OR (OLD.state IN {ASSESSMENT} AND NEW.state IN ('rectification', 'refused', 'withdrawn'))
            OR (OLD.state = 'rectification' AND NEW.state IN {ASSESSMENT})
            OR (OLD.state = 'rectification' AND NEW.state IN ('refused', 'withdrawn'))
            OR (OLD.state = 'decided' AND NEW.state IN ('issued', 'withdrawn'))
            OR (OLD.state IN ('issued', 'surveillance_overdue')
                AND NEW.state IN ('issued', 'suspended', 'revoked', 'expired', 'withdrawn'))
            OR (OLD.state = 'issued' AND NEW.state IN ('surveillance_overdue', 'renewed'))
            OR (OLD.state = 'suspended' AND NEW.state IN ('issued', 'revoked', 'expired'))
        ) THEN
            RAISE EXCEPTION 'certification %: % -> % is not a legal transition', OLD.id, OLD.state, NEW.state
                USING ERRCODE = 'check_violation', CONSTRAINT = 'certification_state_change_legal';
        END IF;
        RETURN NEW;
    END $$
    """,
    "CREATE TRIGGER certification_state_change_legal BEFORE UPDATE OF state ON certification "
    "FOR EACH ROW EXECUTE FUNCTION certification_state_change_legal()",
    f"""
    CREATE TABLE certification_transition (
        id bigint GENERATED ALWAYS AS IDENTITY,
        certification_id uuid NOT NULL,
        event text NOT NULL,
        from_state text,
        to_state text NOT NULL,
        actor_role text NOT NULL,
        actor_organisation_id uuid NOT NULL,
        actor_user_id uuid,
        at timestamptz NOT NULL,
        reason text,
        CONSTRAINT pk_certification_transition PRIMARY KEY (id),
        CONSTRAINT fk_certification_transition_certification_id_certification
            FOREIGN KEY (certification_id) REFERENCES certification (id),
        CONSTRAINT ck_certification_transition_event_known CHECK (event IN {EVENTS}),
        CONSTRAINT ck_certification_transition_states_known CHECK (to_state IN {STATES}
            AND (from_state IS NULL OR from_state IN {STATES})),
        CONSTRAINT ck_certification_transition_actor_role_known
            CHECK (actor_role IN ('producer', 'certifier', 'operator'))
    )
    """,
    "CREATE INDEX ix_certification_transition_certification_id ON certification_transition (certification_id, id)",
    """
    CREATE TABLE audit_finding (
        id bigint GENERATED ALWAYS AS IDENTITY,
        certification_id uuid NOT NULL,
        finding text NOT NULL,
        met boolean NOT NULL,
        recorded_by uuid NOT NULL,
        recorded_at timestamptz NOT NULL,
        CONSTRAINT pk_audit_finding PRIMARY KEY (id),
        CONSTRAINT fk_audit_finding_certification_id_certification
            FOREIGN KEY (certification_id) REFERENCES certification (id),
        CONSTRAINT ck_audit_finding_finding_format CHECK (finding ~ '^[a-z][a-z0-9_]{0,63}$')
    )
    """,
    "CREATE INDEX ix_audit_finding_certification_id ON audit_finding (certification_id, id)",
    """
    CREATE TABLE lab_result (
        id bigint GENERATED ALWAYS AS IDENTITY,
        certification_id uuid NOT NULL,
        measure text NOT NULL,
        value numeric(20, 6) NOT NULL,
        recorded_by uuid NOT NULL,
        recorded_at timestamptz NOT NULL,
        CONSTRAINT pk_lab_result PRIMARY KEY (id),
        CONSTRAINT fk_lab_result_certification_id_certification
            FOREIGN KEY (certification_id) REFERENCES certification (id),
        CONSTRAINT ck_lab_result_measure_format CHECK (measure ~ '^[a-z][a-z0-9_]{0,63}$')
    )
    """,
    "CREATE INDEX ix_lab_result_certification_id ON lab_result (certification_id, id)",
    """
    CREATE TABLE surveillance_audit (
        id bigint GENERATED ALWAYS AS IDENTITY,
        certification_id uuid NOT NULL,
        due_on date NOT NULL,
        next_due_on date NOT NULL,
        performed_at timestamptz NOT NULL,
        recorded_by uuid NOT NULL,
        note text,
        CONSTRAINT pk_surveillance_audit PRIMARY KEY (id),
        CONSTRAINT fk_surveillance_audit_certification_id_certification
            FOREIGN KEY (certification_id) REFERENCES certification (id),
        CONSTRAINT ck_surveillance_audit_schedule CHECK (next_due_on > due_on)
    )
    """,
    "CREATE INDEX ix_surveillance_audit_certification_id ON surveillance_audit (certification_id)",
    """
    CREATE TABLE label_code_batch (
        id bigint GENERATED ALWAYS AS IDENTITY,
        certification_id uuid NOT NULL,
        certifier_id uuid NOT NULL,
        label_number integer NOT NULL,
        year integer NOT NULL,
        quantity integer NOT NULL,
        certificate_year_start date NOT NULL,
        created_by uuid,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT pk_label_code_batch PRIMARY KEY (id),
        CONSTRAINT fk_label_code_batch_certification_id_certification
            FOREIGN KEY (certification_id) REFERENCES certification (id),
        CONSTRAINT fk_label_code_batch_label_number_certifier_label_number
            FOREIGN KEY (label_number, certifier_id) REFERENCES certifier_label_number (label_number, certifier_id),
        CONSTRAINT ck_label_code_batch_quantity_positive CHECK (quantity > 0),
        CONSTRAINT ck_label_code_batch_year_range CHECK (year BETWEEN 2000 AND 2099)
    )
    """,
    "CREATE INDEX ix_label_code_batch_certification_id ON label_code_batch (certification_id, certificate_year_start)",
    """
    CREATE FUNCTION label_code_batch_within_volume() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        certified bigint;
        current_state text;
        issued bigint;
    BEGIN
        -- The row lock queues concurrent batches of one certificate, so the sum below cannot go stale.
        SELECT annual_volume, state INTO certified, current_state FROM certification
            WHERE id = NEW.certification_id FOR UPDATE;
        IF current_state NOT IN ('issued', 'surveillance_overdue') THEN
            RAISE EXCEPTION 'certification % is %: codes are issued only under a live certificate',
                NEW.certification_id, current_state
                USING ERRCODE = 'check_violation', CONSTRAINT = 'label_code_batch_certificate_live';
        END IF;
        SELECT coalesce(sum(quantity), 0) INTO issued FROM label_code_batch
            WHERE certification_id = NEW.certification_id AND certificate_year_start = NEW.certificate_year_start;
        IF issued + NEW.quantity > certified THEN
            RAISE EXCEPTION 'a batch of % codes exceeds the certified annual volume of % (% issued this certificate year)',
                NEW.quantity, certified, issued
                USING ERRCODE = 'check_violation', CONSTRAINT = 'label_code_batch_within_volume';
        END IF;
        RETURN NEW;
    END $$
    """,
    "CREATE TRIGGER label_code_batch_within_volume BEFORE INSERT ON label_code_batch "
    "FOR EACH ROW EXECUTE FUNCTION label_code_batch_within_volume()",
    """
    CREATE TABLE label_code (
        code text,
        batch_id bigint NOT NULL,
        CONSTRAINT pk_label_code PRIMARY KEY (code),
        CONSTRAINT fk_label_code_batch_id_label_code_batch FOREIGN KEY (batch_id) REFERENCES label_code_batch (id),
        CONSTRAINT ck_label_code_code_format CHECK (code ~ '^[0-9]{20}$')
    )
    """,
    "CREATE INDEX ix_label_code_batch_id ON label_code (batch_id)",
    # Scans are written on the public hot path: no foreign key (the insert selects from label_code already).
    """
    CREATE TABLE label_scan (
        id bigint GENERATED ALWAYS AS IDENTITY,
        code text NOT NULL,
        scanned_at timestamptz NOT NULL DEFAULT now(),
        latitude real,
        longitude real,
        CONSTRAINT pk_label_scan PRIMARY KEY (id),
        CONSTRAINT ck_label_scan_location CHECK ((latitude IS NULL) = (longitude IS NULL)
            AND (latitude IS NULL OR (latitude BETWEEN -90 AND 90 AND longitude BETWEEN -180 AND 180)))
    )
    """,
    "CREATE INDEX ix_label_scan_code_scanned_at ON label_scan (code, scanned_at)",
    """
    CREATE TABLE counterfeit_flag (
        code text,
        certification_id uuid NOT NULL,
        certifier_id uuid NOT NULL,
        flagged_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        reasons text[] NOT NULL,
        scans integer NOT NULL,
        most_scans_in_window integer NOT NULL,
        most_places_in_window integer NOT NULL,
        CONSTRAINT pk_counterfeit_flag PRIMARY KEY (code),
        CONSTRAINT fk_counterfeit_flag_code_label_code FOREIGN KEY (code) REFERENCES label_code (code),
        CONSTRAINT fk_counterfeit_flag_certification_id_certification
            FOREIGN KEY (certification_id) REFERENCES certification (id),
        CONSTRAINT ck_counterfeit_flag_reasons_given CHECK (cardinality(reasons) >= 1)
    )
    """,
    "CREATE INDEX ix_counterfeit_flag_certifier_id ON counterfeit_flag (certifier_id, flagged_at)",
    """
    CREATE TABLE product_lot (
        id uuid DEFAULT gen_random_uuid(),
        certification_id uuid NOT NULL,
        producer_id uuid NOT NULL,
        quantity bigint NOT NULL,
        unit text NOT NULL,
        harvest_date date NOT NULL,
        certificate_year_start date NOT NULL,
        registered_by uuid,
        registered_at timestamptz NOT NULL,
        CONSTRAINT pk_product_lot PRIMARY KEY (id),
        CONSTRAINT fk_product_lot_certification_id_certification
            FOREIGN KEY (certification_id) REFERENCES certification (id),
        CONSTRAINT fk_product_lot_producer_id_organisation FOREIGN KEY (producer_id) REFERENCES organisation (id),
        CONSTRAINT ck_product_lot_quantity_positive CHECK (quantity > 0)
    )
    """,
    "CREATE INDEX ix_product_lot_certification_id ON product_lot (certification_id, certificate_year_start)",
    """
    CREATE FUNCTION product_lot_within_volume() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        certified bigint;
        current_state text;
        holder uuid;
        registered bigint;
    BEGIN
        SELECT annual_volume, state, producer_id INTO certified, current_state, holder FROM certification
            WHERE id = NEW.certification_id FOR UPDATE;
        IF holder <> NEW.producer_id THEN
            RAISE EXCEPTION 'lots are registered only by the certificate holder'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'product_lot_holder';
        END IF;
        IF current_state NOT IN ('issued', 'surveillance_overdue') THEN
            RAISE EXCEPTION 'certification % is %: lots are registered only under a live certificate',
                NEW.certification_id, current_state
                USING ERRCODE = 'check_violation', CONSTRAINT = 'product_lot_certificate_live';
        END IF;
        SELECT coalesce(sum(quantity), 0) INTO registered FROM product_lot
            WHERE certification_id = NEW.certification_id AND certificate_year_start = NEW.certificate_year_start;
        IF registered + NEW.quantity > certified THEN
            RAISE EXCEPTION 'a lot of % exceeds the certified annual volume of % (% registered this certificate year)',
                NEW.quantity, certified, registered
                USING ERRCODE = 'check_violation', CONSTRAINT = 'product_lot_within_volume';
        END IF;
        RETURN NEW;
    END $$
    """,
    "CREATE TRIGGER product_lot_within_volume BEFORE INSERT ON product_lot "
    "FOR EACH ROW EXECUTE FUNCTION product_lot_within_volume()",
    """
    CREATE VIEW product_lot_status AS
    SELECT lot.id AS lot_id, certification.state AS certificate_state,
           certification.state IN ('suspended', 'revoked') AS frozen
    FROM product_lot AS lot JOIN certification ON certification.id = lot.certification_id
    """,
)

APPEND_ONLY = (
    "certification_transition",
    "audit_finding",
    "lab_result",
    "surveillance_audit",
    "label_code_batch",
    "label_code",
    "product_lot",
)


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)
    for table in APPEND_ONLY:
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION reject_change()"
        )


def downgrade() -> None:
    op.execute("DROP VIEW product_lot_status")
    op.execute(
        "DROP TABLE product_lot, counterfeit_flag, label_scan, label_code, label_code_batch, surveillance_audit, "
        "lab_result, audit_finding, certification_transition, certification, scheme_recognition, "
        "certifier_accreditation, certifier_label_number, label_criteria_version, label_scheme"
    )
    op.execute("DROP FUNCTION product_lot_within_volume()")
    op.execute("DROP FUNCTION label_code_batch_within_volume()")
    op.execute("DROP FUNCTION certification_state_change_legal()")
