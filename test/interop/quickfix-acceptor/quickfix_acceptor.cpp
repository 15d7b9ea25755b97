// quickfix-acceptor: a minimal FIX 4.2 / 4.4 acceptor built on QuickFIX (libquickfix), used to test
// tickpath's FIX connector against an independent FIX engine.
//
// Behaviour: every NewOrderSingle is acked (ExecutionReport New) and then filled in full
// (ExecType 2 on FIX 4.2, F on FIX 4.4) at its limit price, except orders for symbol HOLD, which
// are acked and rest so an OrderCancelRequest can cancel them, and orders for symbol HALF, filled
// for half their quantity (ExecType 1 on FIX 4.2, F on FIX 4.4) with the rest resting. Cancels for unknown or finished
// orders get an OrderCancelReject.
//
// Test control: one command per line on stdin, acting on the session that logged on last (or the
// BeginString named by reset-store). Each prints "OK <command> ..." or "ERR <command>: why" so the
// test can wait for it. They make QuickFIX itself produce the recovery traffic a test needs:
//   skip K           next outbound MsgSeqNum jumps by K (the counterparty sees a gap; QuickFIX
//                    answers its ResendRequest with a GapFill, as those numbers are not stored)
//   seqreset-jump K  send SequenceReset-Reset with NewSeqNo = (its own MsgSeqNum) + 1 + K, then
//                    continue from NewSeqNo
//   gapfill-jump K   the same as a live SequenceReset-GapFill
//   dupfill          send the last fill again as a new message with PossDupFlag=Y and
//                    OrigSendingTime (a venue's possible duplicate)
//   possresend       send the last fill again as a new message with PossResend=Y (97) and no
//                    PossDupFlag (an application-level resend: a new MsgSeqNum, the same ExecID)
//   rr BEGIN END     send a ResendRequest to the counterparty
//   reset            QuickFIX Session::reset(): Logout, disconnect, both numbers back to 1 (a
//                    counterparty that restarts with a lower sequence)
//   reset-store VER  reset the store of session VER (FIX.4.2 / FIX.4.4) while nobody is logged on
//   next             print the next outbound and expected inbound MsgSeqNum
// Being a test peer, it prints each command's result rather than logging.
//
// Usage: quickfix-acceptor PORT STORE_DIR [SENDER_COMP_ID] [TARGET_COMP_ID]
// Prints "READY <port>" once listening; stops cleanly on SIGINT/SIGTERM (exit 0).
// Threading: QuickFIX's socket thread calls the Application; the control thread (stdin) calls
// Session methods, which take the session's own lock; `mu_` guards this file's order state.
#include <quickfix/Application.h>
#include <quickfix/FileLog.h>
#include <quickfix/FileStore.h>
#include <quickfix/Message.h>
#include <quickfix/Session.h>
#include <quickfix/SessionSettings.h>
#include <quickfix/SocketAcceptor.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>

// Debian's QuickFIX 1.15 headers declare dynamic exception specifications, so this file is built
// as C++14 (see scripts/build_quickfix_acceptor.sh) and its overrides repeat those specifications.

namespace {

std::atomic<bool> gStop{false};
void onSignal(int) { gStop = true; }

struct Order {
  std::string symbol, side, price;
  long qty = 0;
  long cum = 0;
  bool open = false;
};

class Venue : public FIX::Application {
 public:
  void onCreate(const FIX::SessionID&) override {}
  void onLogon(const FIX::SessionID& id) override {
    {
      std::lock_guard<std::recursive_mutex> lock(mu_);
      current_ = id;
      hasCurrent_ = true;
    }
    std::cout << "LOGON " << id.toString() << std::endl;
  }
  void onLogout(const FIX::SessionID& id) override { std::cout << "LOGOUT " << id.toString() << std::endl; }
  void toAdmin(FIX::Message&, const FIX::SessionID&) override {}
  void toApp(FIX::Message& m, const FIX::SessionID&) throw(FIX::DoNotSend) override {
    // QuickFIX clears PossDupFlag on a new message before this call: `dupfill` sets it here.
    if (dupNext_.exchange(false)) {
      m.getHeader().setField(43, "Y");
      m.getHeader().setField(122, dupOrigSendingTime_);
      return;
    }
    if (resendNext_.exchange(false)) {
      m.getHeader().setField(97, "Y");
      return;
    }
    // Remember the last fill as it goes out (SendingTime set) for `dupfill`; not for its own resend.
    if (m.getHeader().getField(35) == "8" && m.isSetField(32) && m.getField(32) != "0" && !m.getHeader().isSetField(43)) {
      std::lock_guard<std::recursive_mutex> lock(mu_);
      lastFill_ = m;
    }
  }
  void fromAdmin(const FIX::Message&, const FIX::SessionID&)
      throw(FIX::FieldNotFound, FIX::IncorrectDataFormat, FIX::IncorrectTagValue, FIX::RejectLogon) override {}

  void fromApp(const FIX::Message& msg, const FIX::SessionID& id)
      throw(FIX::FieldNotFound, FIX::IncorrectDataFormat, FIX::IncorrectTagValue, FIX::UnsupportedMessageType) override {
    const std::string type = msg.getHeader().getField(35);
    if (type == "D") onNewOrder(msg, id);
    else if (type == "F") onCancel(msg, id);
    else throw FIX::UnsupportedMessageType();
  }

 public:
  /** One control command (see the file comment); returns the line to print. */
  std::string control(const std::string& line) {
    std::istringstream in(line);
    std::string cmd;
    in >> cmd;
    if (cmd.empty()) return "";
    try {
      if (cmd == "reset-store") {
        std::string ver;
        in >> ver;
        FIX::Session* s = FIX::Session::lookupSession(FIX::SessionID(ver, sender_, target_));
        if (!s) return "ERR reset-store: no session " + ver;
        if (s->isLoggedOn()) return "ERR reset-store: " + ver + " is logged on";
        s->reset();
        return "OK reset-store " + ver;
      }
      FIX::SessionID id;
      FIX::Message last;
      {
        std::lock_guard<std::recursive_mutex> lock(mu_);
        if (!hasCurrent_) return "ERR " + cmd + ": no session has logged on";
        id = current_;
        last = lastFill_;
      }
      FIX::Session* s = FIX::Session::lookupSession(id);
      if (!s) return "ERR " + cmd + ": session gone";
      if (cmd == "next") {
        return "OK next " + std::to_string(s->getExpectedSenderNum()) + " " + std::to_string(s->getExpectedTargetNum());
      }
      if (cmd == "skip") {
        int k = 0;
        in >> k;
        const int next = s->getExpectedSenderNum() + k;
        s->setNextSenderMsgSeqNum(next);
        return "OK skip " + std::to_string(next);
      }
      if (cmd == "seqreset-jump" || cmd == "gapfill-jump") {
        int k = 0;
        in >> k;
        const int own = s->getExpectedSenderNum();
        const int newSeq = own + 1 + k;
        FIX::Message m;
        m.getHeader().setField(35, "4");
        if (cmd == "gapfill-jump") m.setField(123, "Y");
        m.setField(36, std::to_string(newSeq));
        if (!FIX::Session::sendToTarget(m, id)) return "ERR " + cmd + ": not sent";
        s->setNextSenderMsgSeqNum(newSeq);
        return "OK " + cmd + " " + std::to_string(own) + " " + std::to_string(newSeq);
      }
      if (cmd == "dupfill") {
        if (!last.getHeader().isSetField(35)) return "ERR dupfill: no fill sent yet";
        FIX::Message m(last);
        dupOrigSendingTime_ = last.getHeader().getField(52);
        dupNext_ = true;
        if (!FIX::Session::sendToTarget(m, id)) { dupNext_ = false; return "ERR dupfill: not sent"; }
        return "OK dupfill " + m.getField(17);
      }
      if (cmd == "possresend") {
        if (!last.getHeader().isSetField(35)) return "ERR possresend: no fill sent yet";
        FIX::Message m(last);
        resendNext_ = true;
        if (!FIX::Session::sendToTarget(m, id)) { resendNext_ = false; return "ERR possresend: not sent"; }
        return "OK possresend " + m.getField(17);
      }
      if (cmd == "rr") {
        int b = 0, e = 0;
        in >> b >> e;
        FIX::Message m;
        m.getHeader().setField(35, "2");
        m.setField(7, std::to_string(b));
        m.setField(16, std::to_string(e));
        if (!FIX::Session::sendToTarget(m, id)) return "ERR rr: not sent";
        return "OK rr " + std::to_string(b) + " " + std::to_string(e);
      }
      if (cmd == "reset") {
        s->reset();
        return "OK reset";
      }
    } catch (const std::exception& e) {
      return "ERR " + cmd + ": " + e.what();
    }
    return "ERR " + cmd + ": unknown command";
  }

  void compIds(const std::string& sender, const std::string& target) { sender_ = sender; target_ = target; }

 private:
  std::string sender_, target_;
  FIX::SessionID current_;
  bool hasCurrent_ = false;
  FIX::Message lastFill_;  // as sent, header included (toApp copies it here)
  std::atomic<bool> dupNext_{false};
  std::atomic<bool> resendNext_{false};
  std::string dupOrigSendingTime_;
  // QuickFIX may call back from one thread per session; recursive because toApp runs inside
  // sendToTarget calls made while it is held.
  std::recursive_mutex mu_;
  std::map<std::string, Order> orders_;  // key: session + ClOrdID
  long nextOrderId_ = 1;
  long nextExecId_ = 1;

  static bool is44(const FIX::SessionID& id) { return id.getBeginString().getString() == "FIX.4.4"; }

  FIX::Message report(const FIX::SessionID& id, const std::string& orderId, const std::string& clOrdId,
                      const Order& o, char execType, char ordStatus) {
    FIX::Message er;
    er.getHeader().setField(35, "8");
    er.setField(37, orderId);
    er.setField(11, clOrdId);
    er.setField(17, "QF" + std::to_string(nextExecId_++));
    if (!is44(id)) er.setField(20, "0");
    er.setField(150, std::string(1, execType));
    er.setField(39, std::string(1, ordStatus));
    er.setField(55, o.symbol);
    er.setField(54, o.side);
    er.setField(38, std::to_string(o.qty));
    if (!o.price.empty()) er.setField(44, o.price);
    return er;
  }

  void onNewOrder(const FIX::Message& msg, const FIX::SessionID& id) {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    Order o;
    const std::string clOrdId = msg.getField(11);
    o.symbol = msg.getField(55);
    o.side = msg.getField(54);
    o.qty = std::stol(msg.getField(38));
    if (msg.isSetField(44)) o.price = msg.getField(44);
    const std::string orderId = "QO" + std::to_string(nextOrderId_++);
    FIX::Message ack = report(id, orderId, clOrdId, o, '0', '0');
    ack.setField(151, std::to_string(o.qty));
    ack.setField(14, "0");
    ack.setField(6, "0");
    FIX::Session::sendToTarget(ack, id);
    if (o.symbol == "HOLD") {
      o.open = true;
      orders_[id.toString() + "|" + clOrdId] = o;
      return;
    }
    const std::string px = o.price.empty() ? "1" : o.price;
    const bool half = o.symbol == "HALF";
    const long shares = half ? o.qty / 2 : o.qty;
    FIX::Message fill = report(id, orderId, clOrdId, o, is44(id) ? 'F' : (half ? '1' : '2'), half ? '1' : '2');
    fill.setField(32, std::to_string(shares));
    fill.setField(31, px);
    fill.setField(151, std::to_string(o.qty - shares));
    fill.setField(14, std::to_string(shares));
    fill.setField(6, px);
    FIX::Session::sendToTarget(fill, id);
    o.cum = shares;
    o.open = half;
    orders_[id.toString() + "|" + clOrdId] = o;
  }

  void onCancel(const FIX::Message& msg, const FIX::SessionID& id) {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    const std::string clOrdId = msg.getField(11);
    const std::string orig = msg.getField(41);
    auto it = orders_.find(id.toString() + "|" + orig);
    if (it == orders_.end() || !it->second.open) {
      FIX::Message rej;
      rej.getHeader().setField(35, "9");
      rej.setField(37, "NONE");
      rej.setField(11, clOrdId);
      rej.setField(41, orig);
      rej.setField(39, "8");
      rej.setField(434, "1");
      rej.setField(102, "1");
      rej.setField(58, "unknown or finished order");
      FIX::Session::sendToTarget(rej, id);
      return;
    }
    it->second.open = false;
    FIX::Message er = report(id, "QO-" + orig, clOrdId, it->second, '4', '4');
    er.setField(41, orig);
    er.setField(151, "0");
    er.setField(14, std::to_string(it->second.cum));
    er.setField(6, it->second.cum > 0 ? it->second.price : "0");
    FIX::Session::sendToTarget(er, id);
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: quickfix-acceptor PORT STORE_DIR [SENDER_COMP_ID] [TARGET_COMP_ID]" << std::endl;
    return 2;
  }
  const std::string port = argv[1];
  const std::string dir = argv[2];
  const std::string sender = argc > 3 ? argv[3] : "QFVENUE";
  const std::string target = argc > 4 ? argv[4] : "TICKPATH";
  std::signal(SIGINT, onSignal);
  std::signal(SIGTERM, onSignal);

  std::stringstream cfg;
  cfg << "[DEFAULT]\nConnectionType=acceptor\nSocketAcceptPort=" << port << "\nSocketReuseAddress=Y\n"
      << "SocketNodelay=Y\nStartTime=00:00:00\nEndTime=00:00:00\nUseDataDictionary=N\n"
      << "FileStorePath=" << dir << "/store\nFileLogPath=" << dir << "/log\n"
      << "SenderCompID=" << sender << "\nTargetCompID=" << target << "\n"
      << "[SESSION]\nBeginString=FIX.4.2\n[SESSION]\nBeginString=FIX.4.4\n";
  try {
    FIX::SessionSettings settings(cfg);
    Venue app;
    app.compIds(sender, target);
    FIX::FileStoreFactory store(settings);
    FIX::FileLogFactory log(settings);
    FIX::SocketAcceptor acceptor(app, store, settings, log);
    acceptor.start();
    std::cout << "READY " << port << std::endl;
    // Control commands from stdin; EOF (stdin closed or not a pipe) only ends the control thread.
    std::thread control([&app] {
      std::string line;
      while (!gStop && std::getline(std::cin, line)) {
        const std::string out = app.control(line);
        if (!out.empty()) std::cout << out << std::endl;
      }
    });
    control.detach();
    while (!gStop) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    acceptor.stop();
  } catch (const std::exception& e) {
    std::cerr << "quickfix-acceptor: " << e.what() << std::endl;
    return 1;
  }
  return 0;
}
