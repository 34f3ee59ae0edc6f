// A pgjdbc client whose server-side prepared statement outlives a catalog
// change: java -cp postgresql.jar Heal.java URL USER PASSWORD.
// It executes a PreparedStatement (prepareThreshold=1: a named server-side
// statement) three times, prints "ready" and waits for a line on standard
// input (the test changes the catalog meanwhile), then executes it twice
// more. Each execution prints "before:VALUE", "after:VALUE" or
// "after:ERROR SQLSTATE".
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.sql.*;
import java.util.Properties;

public class Heal {
    static String once(PreparedStatement ps) throws SQLException {
        ps.setInt(1, 1);
        try (ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getString(1);
        }
    }

    public static void main(String[] args) throws Exception {
        Properties props = new Properties();
        props.setProperty("user", args[1]);
        props.setProperty("password", args[2]);
        try (Connection c = DriverManager.getConnection(args[0], props);
             PreparedStatement ps = c.prepareStatement("SELECT mobile FROM cm.people WHERE id = ?")) {
            for (int i = 0; i < 3; i++) {
                System.out.println("before:" + once(ps));
            }
            System.out.println("ready");
            System.out.flush();
            new BufferedReader(new InputStreamReader(System.in)).readLine();
            for (int i = 0; i < 2; i++) {
                try {
                    System.out.println("after:" + once(ps));
                } catch (SQLException e) {
                    System.out.println("after:ERROR " + e.getSQLState());
                }
            }
        }
    }
}
