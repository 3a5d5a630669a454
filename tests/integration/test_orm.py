"""Two ORMs through the rewrite across a migration's life: SQLAlchemy and Django.

Most applications reach Postgres through an ORM, whose SQL nobody writes by hand: aliased
target lists (`customers.status AS customers_status`), batched inserts with RETURNING,
executemany updates, eager loads through JOINs and IN lists, count() over a subquery, ON
CONFLICT upserts, server-side cursors (DECLARE), SELECT ... FOR UPDATE, Django's bulk_update (a
CASE per row) and get_or_create (a savepoint). Each ORM (Debian's python3-sqlalchemy 1.4 and
python3-django 3.2, both over psycopg2) runs one workload in every phase of two migrations, a
type change with to_new / to_old (customers.status text -> state smallint) and a rename
(orders.note -> memo), on one connection that lives through the flips, as the app written for
the old column and as the app updated to the new one. The rows are checked straight in
Postgres; which column a read is served from is checked on a row whose two columns were made to
differ in the database.
"""

import unittest

import sqlalchemy as sa
from sqlalchemy import orm
from sqlalchemy.dialects.postgresql import insert as pg_insert

from harness import postgres, proxy
from harness.base import IntegrationCase, requires_proxy
from test_rewrite import MigrationProxy

SCHEMA = """
CREATE TABLE customers (id serial PRIMARY KEY, name text NOT NULL UNIQUE, status text,
                        created_at timestamptz NOT NULL DEFAULT now());
ALTER TABLE customers ADD COLUMN state smallint;
CREATE TABLE orders (id serial PRIMARY KEY, customer_id int NOT NULL REFERENCES customers(id),
                     amount numeric(10, 2), note text);
ALTER TABLE orders ADD COLUMN memo text;
"""
TO_NEW = {"active": 1, "inactive": 0}

# The life of a migration (DESIGN §1), steps 1, 2, 5 and 6.
PHASES = (("old", "old"), ("both", "old"), ("both", "new"), ("new", "new"))


def migrations(writes, reads):
    return [
        {"name": "customers-status-to-state", "table": "public.customers",
         "old_column": "status", "new_column": "state",
         "to_new": "CASE {value} WHEN 'active' THEN 1 WHEN 'inactive' THEN 0 END",
         "to_old": "CASE {value} WHEN 1 THEN 'active' WHEN 0 THEN 'inactive' END",
         "writes": writes, "reads": reads},
        {"name": "orders-note-to-memo", "table": "public.orders", "old_column": "note",
         "new_column": "memo", "writes": writes, "reads": reads},
    ]


class OrmCase(IntegrationCase):
    """One cluster and one migration proxy per class; the phases run in order in one test."""

    @classmethod
    def setUpClass(cls):
        if not proxy.binary():
            raise unittest.SkipTest("needs SWITCHYARD_BIN: rewriting is the proxy's job")
        cls.pg = postgres.start_for_class(cls)
        with cls.pg.connect() as conn:
            conn.execute(SCHEMA)
        cls.proxy = MigrationProxy(cls.pg, migrations("old", "old"))
        cls.proxy.start()
        cls.addClassCleanup(cls.proxy.close)
        cls.host, cls.port = cls.proxy.host, cls.proxy.port

    def phases(self, prefix):
        """(tag, writes, reads) for each of PHASES, the flags flipped to it first. A tag names
        the phase's rows (`<tag>-...`), apart from other tests' and other phases'."""
        for i, (writes, reads) in enumerate(PHASES):
            self.proxy.reload(migrations(writes, reads))
            yield f"{prefix}{i}", writes, reads

    def assert_customers(self, tag, writes, expected):
        """The tag's customers hold, in both columns, what `writes` makes of the app's values."""
        rows = self.pg.query("SELECT name, status, state FROM customers WHERE name LIKE %s",
                             (f"{tag}-%",))
        want = {}
        for name, status in expected.items():
            if writes == "old":
                want[name] = (status, None)
            elif writes == "both":
                want[name] = (status, TO_NEW[status])
            else:
                want[name] = (None, TO_NEW[status])
        self.assertEqual({name: (status, state) for name, status, state in rows}, want)

    def assert_notes(self, tag, writes, expected):
        rows = self.pg.query(
            "SELECT o.note, o.memo FROM orders o JOIN customers c ON c.id = o.customer_id "
            "WHERE c.name LIKE %s ORDER BY o.note, o.memo", (f"{tag}-%",))
        old = expected if writes != "new" else [None] * len(expected)
        new = expected if writes != "old" else [None] * len(expected)
        self.assertEqual(rows, sorted(zip(old, new), key=repr))

    def make_differing_row(self, tag):
        """A customer whose status says 'inactive' and whose state says 1 ('active'), and an
        order whose note and memo differ: a read shows which column it was served from."""
        with self.pg.connect() as conn:
            cid = conn.execute(
                "INSERT INTO customers (name, status, state) VALUES (%s, 'inactive', 1) "
                "RETURNING id", (f"differs-{tag}",)).fetchone()[0]
            conn.execute("INSERT INTO orders (customer_id, note, memo) VALUES (%s, 'old', 'new')",
                         (cid,))
        return f"differs-{tag}"

    @staticmethod
    def served(reads):
        """(status, note) an app must read from make_differing_row's rows."""
        return ("active", "new") if reads == "new" else ("inactive", "old")


class BothApps:
    """The two tests each ORM runs: its `old_app_phase` and `updated_app_phase` in each phase."""

    PREFIX = ""  # the ORM's tag prefix, apart from the other's rows

    def test_an_app_written_for_the_old_column_through_every_phase(self):
        for tag, writes, reads in self.phases(f"{self.PREFIX}-old"):
            with self.subTest(writes=writes, reads=reads):
                self.old_app_phase(tag, writes, reads)

    def test_the_updated_app_beside_the_old_one(self):
        for tag, writes, reads in self.phases(f"{self.PREFIX}-new"):
            if writes == "old":
                continue  # the updated app is deployed once both columns are written
            with self.subTest(writes=writes, reads=reads):
                self.updated_app_phase(tag, writes)


Base = orm.declarative_base()
UpdatedBase = orm.declarative_base()


class Customer(Base):
    __tablename__ = "customers"
    id = sa.Column(sa.Integer, primary_key=True)
    name = sa.Column(sa.Text, nullable=False)
    status = sa.Column(sa.Text)
    created_at = sa.Column(sa.DateTime(timezone=True), server_default=sa.func.now())
    orders = orm.relationship("Order", back_populates="customer", order_by="Order.id")


class Order(Base):
    __tablename__ = "orders"
    id = sa.Column(sa.Integer, primary_key=True)
    customer_id = sa.Column(sa.Integer, sa.ForeignKey("customers.id"), nullable=False)
    amount = sa.Column(sa.Numeric(10, 2))
    note = sa.Column(sa.Text)
    customer = orm.relationship("Customer", back_populates="orders")


class UpdatedCustomer(UpdatedBase):
    """The same table as the app deployed for the new column sees it (step 8 of §1)."""
    __tablename__ = "customers"
    id = sa.Column(sa.Integer, primary_key=True)
    name = sa.Column(sa.Text, nullable=False)
    state = sa.Column(sa.SmallInteger)


@requires_proxy
class SqlAlchemyTest(BothApps, OrmCase):
    PREFIX = "sa"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        url = sa.engine.URL.create("postgresql+psycopg2", username=postgres.SUPERUSER,
                                   password=cls.pg.password, host=cls.host, port=cls.port,
                                   database=cls.pg.dbname)
        # One pooled connection, so the same session lives through every flip.
        cls.engine = sa.create_engine(url, future=True, pool_size=1, max_overflow=0,
                                      connect_args={"connect_timeout": 10})
        cls.addClassCleanup(cls.engine.dispose)

    def old_app_phase(self, tag, writes, reads):
        differs = self.make_differing_row(tag)
        with orm.Session(self.engine) as s:
            # Unit of work: a parent with children, then a batch (execute_values).
            s.add(Customer(name=f"{tag}-a", status="active",
                           orders=[Order(amount=5, note="n1"), Order(amount=7, note="n2")]))
            s.add_all([Customer(name=f"{tag}-b{i}", status="inactive") for i in range(4)])
            s.commit()

            mine = Customer.name.like(f"{tag}-%")
            active = s.query(Customer).filter_by(status="active").filter(mine)
            self.assertEqual([c.name for c in active.order_by(Customer.status, Customer.id)],
                             [f"{tag}-a"])
            self.assertEqual(active.count(), 1)  # count() wraps the query in a subquery
            self.assertEqual(
                dict(s.query(Customer.status, sa.func.count()).filter(mine)
                     .group_by(Customer.status).all()), {"active": 1, "inactive": 4})
            self.assertTrue(s.query(sa.exists().where(
                sa.and_(Customer.status == "inactive", mine))).scalar())
            for load in (orm.joinedload, orm.selectinload, orm.subqueryload):
                s.expunge_all()
                a = (s.query(Customer).options(load(Customer.orders))
                     .filter(Customer.name == f"{tag}-a").one())
                self.assertEqual([o.note for o in a.orders], ["n1", "n2"], load.__name__)

            status, note = self.served(reads)
            s.expunge_all()
            d = s.query(Customer).options(orm.joinedload(Customer.orders)) \
                .filter_by(name=differs).one()
            self.assertEqual((d.status, [o.note for o in d.orders]), (status, [note]))
            self.assertEqual(s.query(Customer.name).filter(
                Customer.status == status, Customer.name == differs).scalar(), differs)
            streamed = s.execute(sa.select(Customer.status).where(Customer.name == differs)
                                 .execution_options(stream_results=True, yield_per=1))
            self.assertEqual(streamed.scalars().all(), [status])
            s.commit()

            # Changes: flush of a dirty object, executemany of the children, bulk updates
            # with both synchronisations, Core with RETURNING, a text() update, a delete.
            b0 = s.query(Customer).filter_by(name=f"{tag}-b0").one()
            b0.status = "active"
            for o in s.query(Order).join(Customer).filter(Customer.name == f"{tag}-a"):
                o.note = o.note + "!"
            s.commit()
            s.query(Customer).filter(Customer.name == f"{tag}-b1").update(
                {Customer.status: "active"}, synchronize_session="fetch")
            s.query(Customer).filter(Customer.name == f"{tag}-b2").update(
                {"status": "active"}, synchronize_session="evaluate")
            back = s.execute(sa.update(Customer).where(Customer.name == f"{tag}-b2")
                             .values(status="inactive").returning(Customer.status)).scalar()
            self.assertEqual(back, "inactive")
            row = s.execute(sa.insert(Customer).values(name=f"{tag}-core", status="active")
                            .returning(Customer.id, Customer.status)).one()
            self.assertEqual(row.status, "active")
            s.execute(sa.text("UPDATE customers SET status = :s WHERE name = :n"),
                      {"s": "inactive", "n": f"{tag}-core"})
            s.delete(s.query(Customer).filter_by(name=f"{tag}-b3").one())
            s.commit()

            # An upsert both ways, then one that does nothing; a locking read.
            upsert = pg_insert(Customer).values(name=f"{tag}-up", status="active")
            upsert = upsert.on_conflict_do_update(
                index_elements=["name"], set_={"status": upsert.excluded.status})
            s.execute(upsert)
            s.execute(upsert.values(name=f"{tag}-up", status="inactive"))
            s.execute(pg_insert(Customer).values(name=f"{tag}-up", status="active")
                      .on_conflict_do_nothing())
            locked = s.query(Customer).filter(Customer.status == "inactive", mine) \
                .with_for_update(skip_locked=True).all()
            self.assertEqual(sorted(c.name for c in locked),
                             [f"{tag}-b2", f"{tag}-core", f"{tag}-up"])
            s.commit()

        self.assert_customers(tag, writes, {
            f"{tag}-a": "active", f"{tag}-b0": "active", f"{tag}-b1": "active",
            f"{tag}-b2": "inactive", f"{tag}-core": "inactive", f"{tag}-up": "inactive"})
        self.assert_notes(tag, writes, ["n1!", "n2!"])

    def updated_app_phase(self, tag, writes):
        with orm.Session(self.engine) as s:
            s.add_all([UpdatedCustomer(name=f"{tag}-n{i}", state=1) for i in range(3)])
            s.commit()
            n0 = s.query(UpdatedCustomer).filter_by(name=f"{tag}-n0").one()
            n0.state = 0
            s.query(UpdatedCustomer).filter(UpdatedCustomer.name == f"{tag}-n1").update(
                {UpdatedCustomer.state: 0}, synchronize_session="fetch")
            s.commit()
            self.assertEqual(
                s.query(UpdatedCustomer.name).filter(
                    UpdatedCustomer.state == 0, UpdatedCustomer.name.like(f"{tag}-%"))
                .order_by(UpdatedCustomer.name).all(), [(f"{tag}-n0",), (f"{tag}-n1",)])
            # The old app's sessions read the same rows by the old column.
            self.assertEqual(
                dict(s.query(Customer.name, Customer.status)
                     .filter(Customer.name.like(f"{tag}-%")).all()),
                {f"{tag}-n0": "inactive", f"{tag}-n1": "inactive", f"{tag}-n2": "active"})
        self.assert_customers(tag, writes, {f"{tag}-n0": "inactive", f"{tag}-n1": "inactive",
                                            f"{tag}-n2": "active"})


# Django's label for this module, the app that holds the models (see DjangoTest).
APP_LABEL = __name__.rpartition(".")[2]


def django_models():
    """The app's models, made once Django is set up (a model class needs a configured app)."""
    from django.db import models

    class DjangoCustomer(models.Model):
        name = models.TextField(unique=True)
        status = models.TextField(null=True)

        class Meta:
            app_label = APP_LABEL
            db_table = "customers"
            managed = False

    class DjangoOrder(models.Model):
        customer = models.ForeignKey(DjangoCustomer, on_delete=models.CASCADE,
                                     related_name="orders")
        amount = models.DecimalField(max_digits=10, decimal_places=2, null=True)
        note = models.TextField(null=True)

        class Meta:
            app_label = APP_LABEL
            db_table = "orders"
            managed = False

    class DjangoUpdatedCustomer(models.Model):
        name = models.TextField(unique=True)
        state = models.SmallIntegerField(null=True)

        class Meta:
            app_label = APP_LABEL
            db_table = "customers"
            managed = False

    return DjangoCustomer, DjangoOrder, DjangoUpdatedCustomer


@requires_proxy
class DjangoTest(BothApps, OrmCase):
    PREFIX = "dj"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        import django
        from django.conf import settings
        if settings.configured:
            raise unittest.SkipTest("Django was configured by another test in this process")
        # This module is the app that holds the models (INSTALLED_APPS takes a module).
        settings.configure(INSTALLED_APPS=[__name__], USE_TZ=True, DATABASES={"default": {
            "ENGINE": "django.db.backends.postgresql", "NAME": cls.pg.dbname,
            "USER": postgres.SUPERUSER, "PASSWORD": cls.pg.password, "HOST": cls.host,
            "PORT": str(cls.port), "OPTIONS": {"connect_timeout": 10}}})
        django.setup()
        from django.db import connections
        cls.addClassCleanup(connections.close_all)
        cls.Customer, cls.Order, cls.UpdatedCustomer = django_models()

    def old_app_phase(self, tag, writes, reads):
        from django.db import transaction
        from django.db.models import Case, Count, Exists, F, OuterRef, Q, Subquery, Value, When
        from django.db.models.functions import Concat
        Customer, Order = self.Customer, self.Order
        differs = self.make_differing_row(tag)

        a = Customer.objects.create(name=f"{tag}-a", status="active")
        Order.objects.bulk_create([Order(customer=a, amount=5, note="n1"),
                                   Order(customer=a, amount=7, note="n2")])
        Customer.objects.bulk_create([Customer(name=f"{tag}-b{i}", status="inactive")
                                      for i in range(4)])
        Customer.objects.bulk_create([Customer(name=f"{tag}-b0", status="active")],
                                     ignore_conflicts=True)

        mine = Customer.objects.filter(name__startswith=f"{tag}-")
        self.assertEqual([c.name for c in mine.filter(status="active")], [f"{tag}-a"])
        self.assertEqual(mine.exclude(status="active").count(), 4)
        self.assertEqual(list(mine.values_list("status", flat=True).distinct()
                              .order_by("-status")), ["inactive", "active"])
        self.assertEqual(dict(mine.values("status").annotate(n=Count("id"))
                              .values_list("status", "n")), {"active": 1, "inactive": 4})
        self.assertEqual(mine.filter(Q(status="active") | Q(status__isnull=True)).get().name,
                         f"{tag}-a")
        orders = Order.objects.select_related("customer").filter(
            customer__name=f"{tag}-a", customer__status="active").order_by("id")
        self.assertEqual([(o.note, o.customer.status) for o in orders],
                         [("n1", "active"), ("n2", "active")])
        first = mine.annotate(
            has_n1=Exists(Order.objects.filter(customer=OuterRef("pk"), note="n1")),
            first_note=Subquery(Order.objects.filter(customer=OuterRef("pk"))
                                .order_by("id").values("note")[:1])).get(name=f"{tag}-a")
        self.assertEqual((first.has_n1, first.first_note), (True, "n1"))
        # iterator() reads through a server-side cursor (DECLARE ... CURSOR FOR SELECT ...).
        self.assertEqual(sorted(c.status for c in mine.iterator(chunk_size=2)),
                         ["active"] + ["inactive"] * 4)

        status, note = self.served(reads)
        d = Customer.objects.prefetch_related("orders").get(name=differs)
        self.assertEqual((d.status, [o.note for o in d.orders.all()]), (status, [note]))
        self.assertTrue(Customer.objects.filter(name=differs, status=status).exists())
        self.assertEqual(list(Customer.objects.filter(name=differs).values_list("status")),
                         [(status,)])

        b0 = Customer.objects.get(name=f"{tag}-b0")
        b0.status = "active"
        b0.save()
        b1 = Customer.objects.get(name=f"{tag}-b1")
        b1.status = "active"
        b1.save(update_fields=["status"])
        mine.filter(name=f"{tag}-b2").update(status=Case(
            When(name__endswith="2", then=Value("active")), default=Value("inactive")))
        Order.objects.filter(customer__name=f"{tag}-a").update(note=Concat(F("note"), Value("!")))
        changed = list(mine.filter(name__in=[f"{tag}-b2", f"{tag}-b3"]))
        for c in changed:
            c.status = "inactive" if c.name.endswith("2") else "active"
        Customer.objects.bulk_update(changed, ["status"])  # a CASE WHEN per row
        with transaction.atomic():
            locked = list(mine.select_for_update().filter(status="inactive"))
            self.assertEqual([c.name for c in locked], [f"{tag}-b2"])
            Customer.objects.get_or_create(name=f"{tag}-g", defaults={"status": "active"})
            Customer.objects.update_or_create(name=f"{tag}-g", defaults={"status": "inactive"})
        with self.assertRaises(Exception), transaction.atomic():
            Customer.objects.create(name=f"{tag}-g", status="active")  # unique: rolled back
        Customer.objects.create(name=f"{tag}-gone", status="active").delete()

        self.assert_customers(tag, writes, {
            f"{tag}-a": "active", f"{tag}-b0": "active", f"{tag}-b1": "active",
            f"{tag}-b2": "inactive", f"{tag}-b3": "active", f"{tag}-g": "inactive"})
        self.assert_notes(tag, writes, ["n1!", "n2!"])

    def updated_app_phase(self, tag, writes):
        Updated = self.UpdatedCustomer
        n0 = Updated.objects.create(name=f"{tag}-n0", state=1)
        Updated.objects.bulk_create([Updated(name=f"{tag}-n{i}", state=1) for i in (1, 2)])
        n0.state = 0
        n0.save()
        Updated.objects.filter(name=f"{tag}-n1").update(state=0)
        self.assertEqual(list(Updated.objects.filter(name__startswith=f"{tag}-", state=0)
                              .order_by("name").values_list("name", flat=True)),
                         [f"{tag}-n0", f"{tag}-n1"])
        self.assertEqual(dict(self.Customer.objects.filter(name__startswith=f"{tag}-")
                              .values_list("name", "status")),
                         {f"{tag}-n0": "inactive", f"{tag}-n1": "inactive",
                          f"{tag}-n2": "active"})
        self.assert_customers(tag, writes, {f"{tag}-n0": "inactive", f"{tag}-n1": "inactive",
                                            f"{tag}-n2": "active"})
