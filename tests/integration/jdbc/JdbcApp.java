// An application on pgjdbc (Debian's libpostgresql-jdbc-java), driven line by line by
// test_jdbc.py through Switchyard: one connection and its prepared statements live through
// every flag flip. Each command prints one line: "ok ..." or "error <SQLSTATE> <message>".
//
//   write <tag>   four INSERTs with generated keys (pgjdbc appends RETURNING *), then a batch
//                 of two UPDATEs in one transaction (Binds and Executes under one Sync);
//                 prints the generated keys' column names
//   read <name>   the status of a customer through a statement prepared once at start, run
//                 six times so that pgjdbc has it named and prepared on the server
//                 (prepareThreshold 5) and reads its result in binary where it can
//   star <name>   SELECT * through a plain Statement (the simple protocol); prints the
//                 column names, then the status

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;

public class JdbcApp {
  private final Connection conn;
  private final PreparedStatement insert;
  private final PreparedStatement update;
  private final PreparedStatement statusOf;

  JdbcApp(Connection conn) throws SQLException {
    this.conn = conn;
    insert = conn.prepareStatement("INSERT INTO customers (name, status) VALUES (?, ?)",
                                   Statement.RETURN_GENERATED_KEYS);
    update = conn.prepareStatement("UPDATE customers SET status = ? WHERE name = ?");
    statusOf = conn.prepareStatement("SELECT status FROM customers WHERE name = ?");
  }

  String write(String tag) throws SQLException {
    String keys = "";
    for (int i = 0; i < 4; i++) {
      insert.setString(1, tag + "-" + i);
      insert.setString(2, i % 2 == 0 ? "active" : "inactive");
      insert.executeUpdate();
      try (ResultSet rs = insert.getGeneratedKeys()) {
        keys = columnNames(rs.getMetaData());
      }
    }
    conn.setAutoCommit(false);
    try {
      update.setString(1, "inactive");
      update.setString(2, tag + "-0");
      update.addBatch();
      update.setString(1, "active");
      update.setString(2, tag + "-1");
      update.addBatch();
      update.executeBatch();
      conn.commit();
    } catch (SQLException e) {
      conn.rollback();
      throw e;
    } finally {
      conn.setAutoCommit(true);
    }
    return keys;
  }

  String read(String name) throws SQLException {
    String status = null;
    for (int i = 0; i < 6; i++) {
      statusOf.setString(1, name);
      try (ResultSet rs = statusOf.executeQuery()) {
        status = rs.next() ? rs.getString(1) : "(no row)";
      }
    }
    return status;
  }

  String star(String name) throws SQLException {
    try (Statement st = conn.createStatement();
         ResultSet rs = st.executeQuery(
             "SELECT * FROM customers WHERE name = '" + name.replace("'", "''") + "'")) {
      String names = columnNames(rs.getMetaData());
      return names + " " + (rs.next() ? rs.getString("status") : "(no row)");
    }
  }

  private static String columnNames(ResultSetMetaData md) throws SQLException {
    StringBuilder out = new StringBuilder();
    for (int i = 1; i <= md.getColumnCount(); i++) {
      out.append(i > 1 ? " " : "").append(md.getColumnName(i));
    }
    return out.toString();
  }

  public static void main(String[] args) throws Exception {
    if (args.length != 3) {
      System.err.println("usage: JdbcApp <jdbc url> <user> <password>");
      System.exit(2);
    }
    Properties props = new Properties();
    props.setProperty("user", args[1]);
    props.setProperty("password", args[2]);
    props.setProperty("connectTimeout", "10");
    props.setProperty("socketTimeout", "30");
    try (Connection conn = DriverManager.getConnection(args[0], props)) {
      JdbcApp app = new JdbcApp(conn);
      BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
      System.out.println("ready");
      System.out.flush();
      for (String line; (line = in.readLine()) != null;) {
        String[] cmd = line.trim().split(" ", 2);
        String answer;
        try {
          switch (cmd[0]) {
            case "write": answer = "ok " + app.write(cmd[1]); break;
            case "read": answer = "ok " + app.read(cmd[1]); break;
            case "star": answer = "ok " + app.star(cmd[1]); break;
            default: answer = "error - unknown command " + cmd[0];
          }
        } catch (SQLException e) {
          answer = "error " + e.getSQLState() + " " + e.getMessage().split("\n")[0];
        }
        System.out.println(answer);
        System.out.flush();
      }
    }
  }
}
