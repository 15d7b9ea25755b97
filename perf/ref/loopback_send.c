// loopback_send.c: what one loopback TCP send(2) costs, by where the receiver is and how it waits,
// how often the sender sends, whether memory is walked between sends (the books evicting the
// kernel's code and data), and whether a send + recv on a private loopback pair every warm_us keeps
// the kernel path warm (what lib/pipeline/stages/socket-warmer.ts does between orders).
// Reference for perf:latency's order_syscall; not part of the build.
//   cc -O2 -pthread -o /tmp/loopback_send perf/ref/loopback_send.c
//   /tmp/loopback_send spin|block RX_CPU TX_CPU INTERVAL_US THRASH_MB WARM_US [N]
// e.g. spin 1 0 3000 32 0 (cold) beside spin 1 0 3000 32 200 (kept warm). Last line: JSON.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <stdint.h>
static inline uint64_t now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec*1000000000ull+t.tv_nsec;}
static void pin(int c){cpu_set_t s;CPU_ZERO(&s);CPU_SET(c,&s);pthread_setaffinity_np(pthread_self(),sizeof s,&s);}
static int rx_spin, rx_cpu, lfd; static volatile int stop;
static void* rx(void*a){(void)a;pin(rx_cpu);int fd=accept(lfd,0,0);int one=1;setsockopt(fd,IPPROTO_TCP,TCP_NODELAY,&one,4);
 char b[4096];
 if(rx_spin){fcntl(fd,F_SETFL,O_NONBLOCK);while(!stop){recv(fd,b,sizeof b,0);} }
 else {int ep=epoll_create1(0);struct epoll_event e={.events=EPOLLIN,.data.fd=fd};epoll_ctl(ep,EPOLL_CTL_ADD,fd,&e);fcntl(fd,F_SETFL,O_NONBLOCK);
   while(!stop){struct epoll_event o;if(epoll_wait(ep,&o,1,100)>0) while(recv(fd,b,sizeof b,0)>0);} }
 return 0;}
static int pair_conn(int *srv_out){int l=socket(AF_INET,SOCK_STREAM,0);struct sockaddr_in a={.sin_family=AF_INET,.sin_addr.s_addr=htonl(0x7f000001)};
 socklen_t al=sizeof a;bind(l,(void*)&a,sizeof a);listen(l,1);getsockname(l,(void*)&a,&al);int c=socket(AF_INET,SOCK_STREAM,0);
 connect(c,(void*)&a,sizeof a);int s=accept(l,0,0);close(l);int one=1;setsockopt(c,IPPROTO_TCP,TCP_NODELAY,&one,4);
 fcntl(s,F_SETFL,O_NONBLOCK);*srv_out=s;return c;}
static int cmp(const void*a,const void*b){uint64_t x=*(uint64_t*)a,y=*(uint64_t*)b;return x<y?-1:x>y;}
int main(int argc,char**argv){
 if(argc<7){fprintf(stderr,"usage: spin|block rx_cpu tx_cpu interval_us thrash_mb warm_us [n]\n");return 2;}
 rx_spin=!strcmp(argv[1],"spin");rx_cpu=atoi(argv[2]);int tx_cpu=atoi(argv[3]);int iv=atoi(argv[4]);int mb=atoi(argv[5]);int warm=atoi(argv[6]);int n=argc>7?atoi(argv[7]):2000;
 lfd=socket(AF_INET,SOCK_STREAM,0);struct sockaddr_in a={.sin_family=AF_INET,.sin_addr.s_addr=htonl(0x7f000001)};socklen_t al=sizeof a;
 bind(lfd,(void*)&a,sizeof a);listen(lfd,1);getsockname(lfd,(void*)&a,&al);pthread_t t;pthread_create(&t,0,rx,0);
 pin(tx_cpu);int fd=socket(AF_INET,SOCK_STREAM,0);connect(fd,(void*)&a,sizeof a);int one=1;setsockopt(fd,IPPROTO_TCP,TCP_NODELAY,&one,4);
 int ws=-1,wc=warm?pair_conn(&ws):-1;
 char *junk=mb?malloc((size_t)mb<<20):0; if(junk)memset(junk,1,(size_t)mb<<20);
 char msg[52];memset(msg,'O',sizeof msg);char rb[256];
 uint64_t *d=malloc(n*sizeof *d);usleep(100000);volatile uint64_t sink=0;
 for(int i=0;i<n+100;i++){
   uint64_t until=now()+(uint64_t)iv*1000, nextw=now()+(uint64_t)warm*1000;
   while(now()<until){ // the "stage": walk memory (books) between orders, and optionally keep the kernel path warm
     if(junk){for(size_t o=(size_t)(i*4096)%((size_t)mb<<20),k=0;k<64;k++,o=(o+4096+64)%((size_t)mb<<20))sink+=junk[o];}
     if(warm&&now()>=nextw){send(wc,msg,sizeof msg,MSG_DONTWAIT);recv(ws,rb,sizeof rb,0);nextw=now()+(uint64_t)warm*1000;}
   }
   uint64_t t0=now();send(fd,msg,sizeof msg,0);uint64_t t1=now();if(i>=100)d[i-100]=t1-t0;
 }
 qsort(d,n,sizeof *d,cmp);printf("rx=%s@%d tx@%d interval=%dus thrash=%dMB warm=%dus: send(2) p50 %.2f us p90 %.2f p99 %.2f\n",argv[1],rx_cpu,tx_cpu,iv,mb,warm,d[n/2]/1e3,d[n*9/10]/1e3,d[n*99/100]/1e3);
 printf("{\"rx\":\"%s\",\"rx_cpu\":%d,\"tx_cpu\":%d,\"interval_us\":%d,\"thrash_mb\":%d,\"warm_us\":%d,\"n\":%d,\"p50_ns\":%llu,\"p90_ns\":%llu,\"p99_ns\":%llu}\n",
   argv[1],rx_cpu,tx_cpu,iv,mb,warm,n,(unsigned long long)d[n/2],(unsigned long long)d[n*9/10],(unsigned long long)d[n*99/100]);
 stop=1;pthread_join(t,0);return (int)(sink&0);}
